// StaticKeyring: KEKs in memory; wraps each DEK with AES-256/GCM.
#include "crypto/base64.hpp"
#include "crypto/key_id.hpp"
#include "crypto/random_bytes.hpp"
#include "crypto/scheduled_aead.hpp"

#include <datahub/error.hpp>
#include <datahub/key_provider.hpp>

#include <botan/kdf.h>

#include <cstdlib>
#include <map>

namespace datahub {

KeyProvider::~KeyProvider() = default;

namespace {
constexpr std::size_t kMinKeyBytes = 32;
constexpr std::size_t kNonceBytes = 12;
// The wrapping key is derived, not the KEK itself, so a KEK shared with another system
// (or longer than 32 bytes) is never used directly as an AES key here.
constexpr char kWrapLabel[] = "datahub.connections.kek-wrap.v1";
}  // namespace

struct StaticKeyring::Impl {
  std::string primary;
  // AES-256/GCM under each derived wrapping key, its key schedule computed once.
  std::map<std::string, crypto::ScheduledAead, std::less<>> wrap_keys;
};

StaticKeyring::StaticKeyring(std::string primary_key_id, std::vector<Key> keys)
    : impl_(std::make_unique<Impl>()) {
  if (keys.empty()) throw InvalidArgument("keys", "at least one key is required");
  // Messages name entries by position only: an id may be key material pasted in the wrong
  // place, and base64 can pass the key-id alphabet.
  auto hkdf = Botan::KDF::create_or_throw("HKDF(SHA-256)");
  std::size_t position = 0;
  for (auto& [id, material] : keys) {
    const std::string which = "entry " + std::to_string(++position);
    if (!crypto::is_valid_key_id(id))
      throw InvalidArgument("keys", which + ": the key id must be 1-128 characters of [A-Za-z0-9._:/-]");
    if (material.size() < kMinKeyBytes)
      throw InvalidArgument("keys", which + ": the key is shorter than 32 bytes");
    SecretBytes derived = hkdf->derive_key(32, material, std::string(), kWrapLabel);
    if (!impl_->wrap_keys.try_emplace(id, "AES-256/GCM", derived).second)
      throw InvalidArgument("keys", which + ": the key id appears twice");
  }
  if (!crypto::is_valid_key_id(primary_key_id))
    throw InvalidArgument("keys", "the primary key id must be 1-128 characters of [A-Za-z0-9._:/-]");
  if (!impl_->wrap_keys.count(primary_key_id))
    throw InvalidArgument("keys", "the primary key id is not among the keys");
  impl_->primary = std::move(primary_key_id);
}

StaticKeyring::~StaticKeyring() = default;

std::shared_ptr<StaticKeyring> StaticKeyring::from_string(const std::string& text,
                                                          const std::string& source) {
  // Messages name entries by position only: a malformed entry may be all key material.
  std::vector<Key> keys;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    const std::string_view entry(text.data() + start, end - start);
    const std::string which = "entry " + std::to_string(keys.size() + 1);
    // Key ids may contain ':'; base64 never does, so the last ':' separates them.
    const std::size_t colon = entry.rfind(':');
    if (colon == std::string_view::npos || colon == 0 || colon + 1 == entry.size())
      throw InvalidArgument(source, which + " is not of the form key_id:base64");
    const std::string id(entry.substr(0, colon));
    if (!crypto::is_valid_key_id(id))
      throw InvalidArgument(source, which + ": the key id must be 1-128 characters of [A-Za-z0-9._:/-]");
    SecretBytes material;
    if (!crypto::base64_decode_strict(entry.substr(colon + 1), material))
      throw InvalidArgument(source, which + ": the key is not valid base64");
    if (material.size() < kMinKeyBytes)
      throw InvalidArgument(source, which + ": the key is shorter than 32 bytes");
    for (const auto& existing : keys) {
      if (existing.first == id) throw InvalidArgument(source, which + ": the key id appears twice");
    }
    keys.emplace_back(id, std::move(material));
    start = end + 1;
  }
  std::string primary = keys.front().first;
  return std::make_shared<StaticKeyring>(std::move(primary), std::move(keys));
}

std::shared_ptr<StaticKeyring> StaticKeyring::from_environment(const char* variable) {
  const char* value = std::getenv(variable);
  if (!value || !*value) throw InvalidArgument(variable, "is not set");
  return from_string(value, variable);
}

std::string StaticKeyring::primary_key_id() const { return impl_->primary; }

std::vector<std::string> StaticKeyring::key_ids() const {
  std::vector<std::string> ids;
  for (const auto& entry : impl_->wrap_keys) ids.push_back(entry.first);
  return ids;
}

Bytes StaticKeyring::wrap(const std::string& key_id, const SecretBytes& dek, const Bytes& aad) const {
  auto it = impl_->wrap_keys.find(key_id);
  if (it == impl_->wrap_keys.end()) throw KeyUnavailable("key '" + key_id + "' is not in the keyring");
  Bytes nonce(kNonceBytes);
  crypto::random_bytes(nonce.data(), nonce.size());
  return it->second.seal(nonce.data(), nonce.size(), dek, aad, nonce);  // nonce || ciphertext || tag
}

SecretBytes StaticKeyring::unwrap(const std::string& key_id, const Bytes& edk, const Bytes& aad) const {
  auto it = impl_->wrap_keys.find(key_id);
  if (it == impl_->wrap_keys.end()) throw KeyUnavailable("key '" + key_id + "' is not in the keyring");
  if (edk.size() < kNonceBytes + 16) throw Integrity("wrapped data key is too short");
  try {
    return it->second.open(edk.data(), kNonceBytes, edk.data() + kNonceBytes, edk.size() - kNonceBytes, aad);
  } catch (const Integrity&) {
    // Altered data, or a key id given other key material than the row was sealed under.
    throw Integrity("wrapped data key failed authentication under key '" + key_id +
                    "' (the data was altered, or that key id holds another key than the one it was sealed under)");
  }
}

}  // namespace datahub
