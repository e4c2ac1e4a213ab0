#include "store/record_codec.hpp"

#include "crypto/base64.hpp"
#include "crypto/key_id.hpp"
#include "model/details_json.hpp"

#include <datahub/connection_type.hpp>
#include <datahub/error.hpp>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace datahub::store {

RecordCodec::RecordCodec(std::shared_ptr<const KeyProvider> keys, const std::string& cipher_name,
                         crypto::DekCachePolicy cache)
    : sealer_(std::move(keys), cipher_name, cache) {}

std::string RecordCodec::rotate(const std::string& envelope_json, std::int64_t id, bool reencrypt) const {
  // seal() checks that its new wrapped key unwraps to its DEK, as for every write. A
  // re-encryption also opens what it sealed: the result replaces the row's only copy, and
  // the cipher may be a host's (register_cipher) that does not open what it seals.
  if (reencrypt) {
    const Details details = open(envelope_json, id);
    std::string sealed = seal(details, id);
    if (!(open(sealed, id) == details))
      throw Integrity("re-encryption of connection " + std::to_string(id) + " under cipher " + cipher_name() +
                      " did not open to the same details; the row was left as it was");
    return sealed;
  }
  return crypto::to_json(sealer_.rewrap(crypto::parse_envelope(envelope_json), id));
}

RecordCodec::MovedKey RecordCodec::rewrap_key(const WrappedKeyRow& row) const {
  crypto::Envelope e;
  if (rewrap_reads_envelope()) {
    e = crypto::parse_envelope(row.envelope);
  } else {
    // The members the re-wrap reads, checked as parse_envelope checks them: v the number 1,
    // kid and edk strings (rows.hpp), a valid key id, canonical base64. The others are not
    // read: a row whose other members alone are damaged moves, and still fails to open.
    static const std::string supported_version = std::to_string(crypto::kEnvelopeVersion);
    if (row.version != supported_version) throw Integrity("envelope: unsupported version");
    if (!crypto::is_valid_key_id(row.kid)) throw Integrity("envelope: malformed kid");
    if (!crypto::base64_decode_strict(row.edk, e.edk)) throw Integrity("envelope: malformed edk");
    e.kid = row.kid;
  }
  crypto::Envelope moved = sealer_.rewrap(e, row.id);
  return {std::move(moved.kid), crypto::base64_encode(moved.edk)};
}

std::string RecordCodec::seal(const Details& details, std::int64_t id, std::string* key_id) const {
  const SecretBytes plaintext = model::details_to_secret_json(details);
  const crypto::Envelope sealed = sealer_.seal(plaintext, id);
  if (key_id) *key_id = sealed.kid;
  return crypto::to_json(sealed);
}

Details RecordCodec::open(const std::string& envelope_json, std::int64_t id,
                          crypto::Envelope* envelope) const {
  crypto::Envelope parsed = crypto::parse_envelope(envelope_json);
  SecretBytes plaintext = sealer_.open(parsed, id);
  Details details = model::details_from_secret_json(plaintext);
  if (envelope) *envelope = std::move(parsed);
  return details;
}

std::vector<std::string> redact(Details& details, const std::string& type) {
  std::vector<std::string> removed;
  try {
    removed = connection_type(type).secrets_present(details);
  } catch (const InvalidArgument&) {
    // A type this version does not know: hide every field rather than guess.
    for (const auto& field : details) removed.push_back(field.first);
  }
  for (const auto& name : removed) details.erase(name);
  return removed;
}

// A read must not need the primary key id (a KMS whose lookup is down still unwraps):
// when the provider cannot name a valid one, the row is not called stale.
bool RecordCodec::is_stale(const std::string& kid) const {
  try {
    return kid != crypto::checked_primary_key_id(keys());
  } catch (const Error&) {
    return false;
  }
}

Connection RecordCodec::to_connection(const StoredRow& row, Secrets secrets, bool keep_errors) const {
  Connection c;
  c.id = row.id;
  c.name = row.name;
  c.description = row.description;
  c.type = row.type;
  c.tags = tags_from_json(row.tags_json);
  c.created_at = Timestamp(std::chrono::microseconds(row.created_us));
  c.created_by = row.created_by;
  c.updated_at = Timestamp(std::chrono::microseconds(row.updated_us));
  c.updated_by = row.updated_by;
  try {
    // Parsed first: a row that then fails to open still says which key and cipher it
    // needs, and whether that key is the primary.
    const crypto::Envelope envelope = crypto::parse_envelope(row.envelope);
    c.key_id = envelope.kid;
    c.alg = envelope.alg;
    c.stale = is_stale(envelope.kid);
    SecretBytes plaintext = sealer_.open(envelope, row.id);
    c.details = model::details_from_secret_json(plaintext);
    if (secrets == Secrets::redact) c.redacted = redact(c.details, c.type);
  } catch (const Error& e) {
    if (!keep_errors) throw;
    c.error = RowError{e.code(), e.what()};
  }
  return c;
}

std::string tags_to_json(const std::vector<std::string>& tags) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartArray();
  for (const auto& tag : tags) w.String(tag.data(), static_cast<rapidjson::SizeType>(tag.size()));
  w.EndArray();
  return {buffer.GetString(), buffer.GetSize()};
}

std::string text_array_literal(const std::vector<std::string>& values) {
  std::string out = "{";
  for (std::size_t i = 0; i < values.size(); ++i) {
    out += i ? ",\"" : "\"";
    for (char c : values[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

std::vector<std::string> tags_from_json(const std::string& json) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(json.data(), json.size());
  if (doc.HasParseError() || !doc.IsArray()) throw Integrity("tags: unreadable value from the database");
  std::vector<std::string> tags;
  tags.reserve(doc.Size());
  for (const auto& tag : doc.GetArray()) {
    if (!tag.IsString()) throw Integrity("tags: unreadable value from the database");
    tags.emplace_back(tag.GetString(), tag.GetStringLength());
  }
  return tags;
}

}  // namespace datahub::store
