// Store configuration: database, pool, cipher and keys from JSON.
#include "store_config.hpp"

#include "json_read.hpp"
#include "secure_json.hpp"

#include <datahub/error.hpp>
#include <datahub/key_provider.hpp>

#include <botan/base64.h>
#include <botan/exceptn.h>
#include <botan/mem_ops.h>

#include <string>
#include <utility>
#include <vector>

namespace dhc_capi {
namespace {

// Strict base64: Botan's decoder skips whitespace, so also require the text to be exactly
// what the bytes re-encode to. Key material never reaches a message; `which` names the
// entry ("entry 2").
datahub::SecretBytes decode_key(const Value& v, const std::string& field, const std::string& which) {
  if (!v.IsString()) throw datahub::InvalidArgument(field, which + ": the key must be a base64 string");
  datahub::SecretBytes key;
  bool canonical = false;
  try {
    key = Botan::base64_decode(v.GetString(), v.GetStringLength(), false);
    std::string again = Botan::base64_encode(key.data(), key.size());
    canonical = again.size() == v.GetStringLength() &&
                Botan::constant_time_compare(reinterpret_cast<const std::uint8_t*>(again.data()),
                                             reinterpret_cast<const std::uint8_t*>(v.GetString()),
                                             again.size());
    Botan::secure_scrub_memory(again.data(), again.size());
  } catch (const Botan::Exception&) {
    canonical = false;
  }
  if (!canonical) throw datahub::InvalidArgument(field, which + ": the key is not valid base64");
  return key;
}

std::shared_ptr<const datahub::KeyProvider> static_keys(const Value& k) {
  check_object(k, "keys", {"provider", "primary", "keys"}, MemberNames::by_position);
  const Value* primary = member(k, "primary");
  if (!primary) throw datahub::InvalidArgument("keys.primary", "is required");
  const Value* keys = member(k, "keys");
  if (!keys) throw datahub::InvalidArgument("keys.keys", "is required");
  // Entries are named by position, never by id: swapped ids and keys put key material
  // where the id belongs. StaticKeyring checks the ids (key-id rule, duplicates) the same
  // way; check_unique_members would quote a duplicate id.
  if (!keys->IsObject()) throw datahub::InvalidArgument("keys.keys", "must be a JSON object");
  std::vector<datahub::StaticKeyring::Key> ring;
  for (auto it = keys->MemberBegin(); it != keys->MemberEnd(); ++it) {
    const std::string which = "entry " + std::to_string(ring.size() + 1);
    std::string id = as_string(it->name, "keys.keys");
    ring.emplace_back(std::move(id), decode_key(it->value, "keys.keys", which));
  }
  return std::make_shared<datahub::StaticKeyring>(as_string(*primary, "keys.primary"),
                                                  std::move(ring));
}

std::shared_ptr<const datahub::KeyProvider> env_keys(const Value& k) {
  check_object(k, "keys", {"provider", "variable"}, MemberNames::by_position);
  std::string variable = "DATAHUB_CONNECTIONS_KEYS";
  if (const Value* v = member(k, "variable")) variable = as_string(*v, "keys.variable");
  return datahub::StaticKeyring::from_environment(variable.c_str());
}

std::shared_ptr<const datahub::KeyProvider> file_keys(const Value& k) {
  check_object(k, "keys", {"provider", "path"}, MemberNames::by_position);
  const Value* path = member(k, "path");
  if (!path) throw datahub::InvalidArgument("keys.path", "is required");
  return datahub::StaticKeyring::from_file(as_string(*path, "keys.path"));
}

// {"ttl_seconds": 300, "max_uses": 1000, "max_entries": 4096}; ttl 0 (the default) is off.
datahub::DekCacheOptions dek_cache(const Value& v) {
  check_object(v, "dek_cache", {"ttl_seconds", "max_uses", "max_entries"});
  datahub::DekCacheOptions o;
  const Value* m = nullptr;
  if ((m = member(v, "ttl_seconds"))) {
    if (!m->IsUint()) throw datahub::InvalidArgument("dek_cache.ttl_seconds", "must be a non-negative integer");
    o.ttl = std::chrono::seconds(m->GetUint());
  }
  if ((m = member(v, "max_uses"))) {
    if (!m->IsUint()) throw datahub::InvalidArgument("dek_cache.max_uses", "must be a non-negative integer");
    o.max_uses = m->GetUint();
  }
  if ((m = member(v, "max_entries"))) {
    if (!m->IsUint()) throw datahub::InvalidArgument("dek_cache.max_entries", "must be a non-negative integer");
    o.max_entries = m->GetUint();
  }
  return o;
}

std::shared_ptr<const datahub::KeyProvider> key_provider(const Value& k) {
  if (!k.IsObject()) throw datahub::InvalidArgument("keys", "must be a JSON object");
  const Value* provider = member(k, "provider");
  if (!provider) throw datahub::InvalidArgument("keys.provider", "is required");
  const std::string name = as_string(*provider, "keys.provider");
  if (name == "static") return static_keys(k);
  if (name == "env") return env_keys(k);
  if (name == "file") return file_keys(k);
  throw datahub::InvalidArgument("keys.provider", "must be \"static\", \"env\" or \"file\"");
}

std::chrono::seconds timeout_seconds(const Value& v, const char* field) {
  const std::int64_t seconds = as_int64(v, field);
  if (seconds < 1 || seconds > 3600) throw datahub::InvalidArgument(field, "must be from 1 to 3600 seconds");
  return std::chrono::seconds(seconds);
}

}  // namespace

datahub::StoreOptions parse_store_config(const char* json, KeySource source) {
  Document doc;
  parse_strict(doc, json, "config_json");
  // A key pasted one level too high must not reach a message; a typo should.
  check_object(doc, "config_json",
               {"database", "pool_size", "cipher", "connect_timeout", "acquire_timeout", "dek_cache", "keys"},
               MemberNames::quoted_if_field_name);
  datahub::StoreOptions o;
  const Value* v = member(doc, "database");
  if (!v) throw datahub::InvalidArgument("database", "is required");
  o.database = as_string(*v, "database");
  if ((v = member(doc, "pool_size"))) {
    if (!v->IsUint()) throw datahub::InvalidArgument("pool_size", "must be an integer from 1 to 64");
    o.pool_size = v->GetUint();
  }
  if ((v = member(doc, "cipher"))) o.cipher = as_string(*v, "cipher");
  if ((v = member(doc, "connect_timeout"))) o.connect_timeout = timeout_seconds(*v, "connect_timeout");
  if ((v = member(doc, "acquire_timeout"))) o.acquire_timeout = timeout_seconds(*v, "acquire_timeout");
  if ((v = member(doc, "dek_cache"))) o.dek_cache = dek_cache(*v);
  v = member(doc, "keys");
  if (source == KeySource::host) {
    if (v) throw datahub::InvalidArgument("keys", "must be absent when a key provider is given");
  } else {
    if (!v) throw datahub::InvalidArgument("keys", "is required");
    o.keys = key_provider(*v);
  }
  return o;
}

}  // namespace dhc_capi
