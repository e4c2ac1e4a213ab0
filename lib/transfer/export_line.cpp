#include "transfer/export_line.hpp"

#include "crypto/base64.hpp"
#include "model/details_json.hpp"
#include "model/record_json.hpp"

#include <datahub/connection_type.hpp>
#include <datahub/error.hpp>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cctype>
#include <set>

namespace datahub::transfer {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;
using Value = rapidjson::Value;

constexpr char kAadLabel[] = "datahub.connections.export.v1";

void put(Writer& w, const std::string& s) { model::write_text(w, s); }
void put_strings(Writer& w, const std::vector<std::string>& list) { model::write_texts(w, list); }

void put_sealed(Writer& w, const SealedSecrets& s) {
  const bool argon = s.kdf.alg == "argon2id";
  w.StartObject();
  w.Key("v");
  w.Int(1);
  w.Key("kdf");
  w.StartObject();
  w.Key("alg");
  put(w, s.kdf.alg);
  w.Key(argon ? "m" : "N");
  w.Uint64(s.kdf.a);
  w.Key(argon ? "t" : "r");
  w.Uint64(s.kdf.b);
  w.Key("p");
  w.Uint64(s.kdf.c);
  w.EndObject();
  w.Key("salt");
  put(w, crypto::base64_encode(s.salt));
  w.Key("aead");
  put(w, s.aead);
  w.Key("nonce");
  put(w, crypto::base64_encode(s.nonce));
  w.Key("ct");
  put(w, crypto::base64_encode(s.ct));
  w.EndObject();
}

const Value& member(const Value& object, const char* name, const std::string& field) {
  auto it = object.FindMember(name);
  if (it == object.MemberEnd()) throw InvalidArgument(field, "is missing");
  return it->value;
}

std::string text(const Value& object, const char* name, const std::string& prefix = "") {
  const std::string field = prefix + name;
  const Value& v = member(object, name, field);
  if (!v.IsString()) throw InvalidArgument(field, "must be a string");
  return {v.GetString(), v.GetStringLength()};
}

std::size_t unsigned_number(const Value& object, const char* name, const std::string& prefix) {
  const Value& v = member(object, name, prefix + name);
  if (!v.IsUint64() || v.GetUint64() > (1ULL << 32)) throw InvalidArgument(prefix + name, "must be a small unsigned integer");
  return static_cast<std::size_t>(v.GetUint64());
}

Bytes base64(const Value& object, const char* name) {
  Bytes out;
  if (!crypto::base64_decode_strict(text(object, name, "sealed_secrets."), out))
    throw InvalidArgument(std::string("sealed_secrets.") + name, "is not canonical base64");
  return out;
}

std::vector<std::string> strings(const Value& v, const std::string& field) {
  std::vector<std::string> out;
  if (v.IsNull()) return out;
  if (!v.IsArray()) throw InvalidArgument(field, "must be an array of strings");
  for (const auto& item : v.GetArray()) {
    if (!item.IsString()) throw InvalidArgument(field, "must be an array of strings");
    out.emplace_back(item.GetString(), item.GetStringLength());
  }
  return out;
}

// A member name safe to quote in a message: short, no control characters, nothing pasted.
bool is_plain_name(const std::string& key) {
  return !key.empty() && key.size() <= 64 &&
         std::all_of(key.begin(), key.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}

// Only known members, each once: RapidJSON keeps duplicates and FindMember returns the
// first, where other JSON readers take the last, so a line could read differently to
// whoever checked it.
void check_keys(const Value& object, std::initializer_list<const char*> allowed, const std::string& prefix) {
  std::set<std::string> seen;
  for (const auto& m : object.GetObject()) {
    const std::string key(m.name.GetString(), m.name.GetStringLength());
    if (std::none_of(allowed.begin(), allowed.end(), [&](const char* a) { return key == a; }))
      throw InvalidArgument(is_plain_name(key) ? prefix + key : prefix + "<member>", "is not a known field");
    if (!seen.insert(key).second) throw InvalidArgument(prefix + key, "appears twice");
  }
}

SealedSecrets parse_sealed(const Value& v) {
  if (!v.IsObject()) throw InvalidArgument("sealed_secrets", "must be an object");
  check_keys(v, {"v", "kdf", "salt", "aead", "nonce", "ct"}, "sealed_secrets.");
  const Value& version = member(v, "v", "sealed_secrets.v");
  if (!version.IsInt() || version.GetInt() != 1) throw InvalidArgument("sealed_secrets.v", "must be 1");
  const Value& kdf = member(v, "kdf", "sealed_secrets.kdf");
  if (!kdf.IsObject()) throw InvalidArgument("sealed_secrets.kdf", "must be an object");
  SealedSecrets s;
  s.kdf.alg = text(kdf, "alg", "sealed_secrets.kdf.");
  const bool argon = s.kdf.alg == "argon2id";
  const std::string prefix = "sealed_secrets.kdf.";
  check_keys(kdf, argon ? std::initializer_list<const char*>{"alg", "m", "t", "p"}
                        : std::initializer_list<const char*>{"alg", "N", "r", "p"}, prefix);
  s.kdf.a = unsigned_number(kdf, argon ? "m" : "N", prefix);
  s.kdf.b = unsigned_number(kdf, argon ? "t" : "r", prefix);
  s.kdf.c = unsigned_number(kdf, "p", prefix);
  s.kdf.check("sealed_secrets.kdf");
  s.salt = base64(v, "salt");
  s.aead = text(v, "aead", "sealed_secrets.");
  s.nonce = base64(v, "nonce");
  s.ct = base64(v, "ct");
  return s;
}

void append_field(Bytes& out, std::string_view data) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(data.size() >> shift));
  out.insert(out.end(), data.begin(), data.end());
}

}  // namespace

std::string write_line(const ExportLine& line) {
  const Connection& c = line.record;
  for (const auto& field : c.details) {
    const FieldSpec* spec = connection_type(c.type).field(field.first);
    if (spec && spec->secret) throw Error(ErrorCode::internal, "export: a secret field reached the clear details");
  }
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  model::write_columns(w, c);
  if (!line.redacted.empty()) {
    w.Key("redacted");
    put_strings(w, line.redacted);
  }
  if (line.sealed) {
    w.Key("sealed_secrets");
    put_sealed(w, *line.sealed);
  }
  w.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

ExportLine parse_line(LineText& line_text) {
  // RapidJSON reads a NUL byte as the end of its input: whatever follows it was ignored.
  if (line_text.find('\0') != LineText::npos) throw InvalidArgument("record", "contains a NUL byte");
  // In situ, the DOM points into the line for every string and copies none.
  rapidjson::Document doc;
  doc.ParseInsitu<rapidjson::kParseValidateEncodingFlag | rapidjson::kParseIterativeFlag>(line_text.data());
  if (doc.HasParseError()) throw InvalidArgument("record", "is not valid JSON");
  if (!doc.IsObject()) throw InvalidArgument("record", "must be a JSON object");
  check_keys(doc, {"id", "name", "description", "type", "connection_details", "tags", "created_at", "created_by",
                   "updated_at", "updated_by", "redacted", "sealed_secrets"}, "");
  ExportLine line;
  Connection& c = line.record;
  const Value& id = member(doc, "id", "id");
  if (!id.IsInt64()) throw InvalidArgument("id", "must be an integer");
  c.id = id.GetInt64();
  c.name = text(doc, "name");
  if (auto it = doc.FindMember("description"); it != doc.MemberEnd() && !it->value.IsNull()) {
    if (!it->value.IsString()) throw InvalidArgument("description", "must be a string or null");
    c.description = std::string(it->value.GetString(), it->value.GetStringLength());
  }
  c.type = text(doc, "type");
  c.details = model::details_from_json_value(member(doc, "connection_details", "connection_details"),
                                             "connection_details");
  if (auto it = doc.FindMember("tags"); it != doc.MemberEnd()) c.tags = strings(it->value, "tags");
  c.created_at = parse_timestamp(text(doc, "created_at"), "created_at");
  c.created_by = text(doc, "created_by");
  c.updated_at = parse_timestamp(text(doc, "updated_at"), "updated_at");
  c.updated_by = text(doc, "updated_by");
  if (auto it = doc.FindMember("redacted"); it != doc.MemberEnd()) line.redacted = strings(it->value, "redacted");
  if (auto it = doc.FindMember("sealed_secrets"); it != doc.MemberEnd()) line.sealed = parse_sealed(it->value);
  return line;
}

Bytes associated_data(const Connection& record) {
  Bytes aad;
  append_field(aad, kAadLabel);
  append_field(aad, std::to_string(record.id));
  append_field(aad, record.type);
  std::vector<const Details::Field*> fields;
  for (const auto& f : record.details) fields.push_back(&f);
  std::sort(fields.begin(), fields.end(), [](auto* x, auto* y) { return x->first < y->first; });
  for (const auto* f : fields) {
    append_field(aad, f->first);
    if (const auto* s = std::get_if<std::string>(&f->second)) {
      append_field(aad, "s");
      append_field(aad, *s);
    } else {
      append_field(aad, "i");
      append_field(aad, std::to_string(std::get<std::int64_t>(f->second)));
    }
  }
  return aad;
}

}  // namespace datahub::transfer
