#include "crypto/envelope.hpp"

#include "crypto/base64.hpp"
#include "crypto/cipher_name.hpp"
#include "crypto/key_id.hpp"
#include "model/stack_json_document.hpp"

#include <datahub/error.hpp>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace datahub::crypto {
namespace {

void put(rapidjson::Writer<rapidjson::StringBuffer>& w, const char* key, const std::string& value) {
  w.Key(key);
  w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
}

std::string_view member_string(const rapidjson::Value& doc, const char* key) {
  auto it = doc.FindMember(key);
  if (it == doc.MemberEnd() || !it->value.IsString())
    throw Integrity(std::string("envelope: \"") + key + "\" is missing or not a string");
  return {it->value.GetString(), it->value.GetStringLength()};
}

Bytes member_bytes(const rapidjson::Value& doc, const char* key) {
  Bytes out;
  if (!base64_decode_strict(member_string(doc, key), out))
    throw Integrity(std::string("envelope: \"") + key + "\" is not canonical base64");
  return out;
}

}  // namespace

std::string to_json(const Envelope& e) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartObject();
  w.Key("v");
  w.Int(e.v);
  put(w, "alg", e.alg);
  put(w, "kid", e.kid);
  put(w, "mid", base64_encode(e.mid));
  put(w, "edk", base64_encode(e.edk));
  put(w, "n", base64_encode(e.nonce));
  put(w, "ct", base64_encode(e.ciphertext));
  w.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

Envelope parse_envelope(std::string_view json) {
  // Every read opens one envelope: parsing it allocates nothing (a stored envelope fits).
  model::StackJsonDocument parsed;
  auto& doc = parsed.doc();
  // No UTF-8 validation pass: every member is checked against an ASCII alphabet below
  // (key id, cipher name, base64), which rejects any byte the validation would.
  doc.Parse<rapidjson::kParseIterativeFlag>(json.data(), json.size());
  if (doc.HasParseError() || !doc.IsObject()) throw Integrity("envelope: not a JSON object");
  if (doc.MemberCount() != 7) throw Integrity("envelope: unexpected members");
  auto v = doc.FindMember("v");
  if (v == doc.MemberEnd() || !v->value.IsInt()) throw Integrity("envelope: \"v\" is missing");
  if (v->value.GetInt() != kEnvelopeVersion)
    throw Integrity("envelope: unsupported version " + std::to_string(v->value.GetInt()));
  Envelope e;
  e.alg = std::string(member_string(doc, "alg"));
  if (!is_valid_cipher_name(e.alg)) throw Integrity("envelope: malformed alg");
  e.kid = std::string(member_string(doc, "kid"));
  if (!is_valid_key_id(e.kid)) throw Integrity("envelope: malformed key id");
  e.mid = member_bytes(doc, "mid");
  if (e.mid.size() != kMessageIdBytes) throw Integrity("envelope: \"mid\" must be 32 bytes");
  e.edk = member_bytes(doc, "edk");
  e.nonce = member_bytes(doc, "n");
  e.ciphertext = member_bytes(doc, "ct");
  return e;
}

}  // namespace datahub::crypto
