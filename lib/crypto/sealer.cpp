#include "crypto/sealer.hpp"

#include "crypto/hkdf.hpp"
#include "crypto/key_id.hpp"
#include "crypto/random_bytes.hpp"

#include <datahub/error.hpp>

#include <botan/kdf.h>
#include <botan/mem_ops.h>

#include <new>
#include <string_view>

namespace datahub::crypto {
namespace {

// Calls the host's provider. What it throws outside datahub::Error (a KMS client's own
// exception type) is the provider failing, KeyUnavailable, like any other provider failure:
// list() then keeps the page, rotate() counts the row failed, and no foreign exception
// leaves the C++ API. Out of memory stays what it is.
//
// A datahub::Error the provider throws keeps its kind only when the interface gives it one
// there: KeyUnavailable, and Integrity from unwrap (the wrapped key or its associated data
// altered). Any other kind is the provider failing too: its NotFound made get() say an
// existing row was gone, its Conflict made update() and import ask for a retry that could
// never succeed, its InvalidArgument blamed the caller's input, and its Integrity from
// wrap() or primary_key_id() said stored data was altered. (The C ABI's callback provider
// makes the same distinction.)
template <class Call>
auto provider_call(const char* operation, Call&& call) -> decltype(call()) {
  try {
    return call();
  } catch (const KeyUnavailable&) {
    throw;
  } catch (const Integrity&) {
    if (std::string_view(operation) == "unwrap") throw;
    throw KeyUnavailable(std::string("the key provider failed (") + operation + ")");
  } catch (const Error&) {
    throw KeyUnavailable(std::string("the key provider failed (") + operation + ")");
  } catch (const std::bad_alloc&) {
    throw;
  } catch (...) {
    throw KeyUnavailable(std::string("the key provider failed (") + operation + ")");
  }
}

constexpr char kTable[] = "database_connections";
constexpr char kDetailsLabel[] = "datahub.connections.details.v1";
constexpr char kContentKeyLabel[] = "datahub.connections.cek.v1|";
constexpr char kDekLabel[] = "datahub.connections.dek.v1";
constexpr std::size_t kDekBytes = 32;

// Length-prefixed fields: never JSON text, whose key order JSONB does not keep.
void append_field(Bytes& out, const std::uint8_t* data, std::size_t size) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(size >> shift));
  out.insert(out.end(), data, data + size);
}
void append_field(Bytes& out, std::string_view text) {
  append_field(out, reinterpret_cast<const std::uint8_t*>(text.data()), text.size());
}

Bytes details_associated_data(std::int64_t row_id, const Envelope& e) {
  Bytes aad;
  aad.reserve(128);
  append_field(aad, kDetailsLabel);
  append_field(aad, kTable);
  std::uint8_t id[8];
  for (int i = 0; i < 8; ++i) id[i] = static_cast<std::uint8_t>(static_cast<std::uint64_t>(row_id) >> (56 - 8 * i));
  append_field(aad, id, sizeof id);
  const std::uint8_t version = static_cast<std::uint8_t>(e.v);
  append_field(aad, &version, 1);
  append_field(aad, e.alg);
  append_field(aad, e.mid.data(), e.mid.size());
  return aad;
}

SecretBytes content_key(const SecretBytes& dek, const Envelope& e, std::size_t length) {
  return hkdf_sha256(dek, e.mid.data(), e.mid.size(), std::string(kContentKeyLabel) + e.alg, length);
}

// A wrapped key is a KMS ciphertext of a 32-byte key: a few hundred bytes (an RSA-8192
// wrap is 1 KiB). The C ABI's callback provider refuses more than this already.
constexpr std::size_t kMaxWrappedKeyBytes = 64 * 1024;

// A provider's wrap(), refused when it returns nothing: an empty wrapped key would be
// written as a row that never opens again. Refused too when it is huge: it is copied into
// every envelope sealed with it (up to max_uses of them with the DEK cache), into each
// 1000-row batch of create_many, import and rotate, and into every read; a 64 MiB one made
// create_many need gigabytes and a rotation's batch exceed the server's limits.
Bytes wrap_dek(const KeyProvider& keys, const std::string& kid, const SecretBytes& dek) {
  Bytes edk = provider_call("wrap", [&] { return keys.wrap(kid, dek, dek_associated_data(kid)); });
  if (edk.empty()) throw KeyUnavailable("the key provider returned an empty wrapped key");
  if (edk.size() > kMaxWrappedKeyBytes) throw KeyUnavailable("the key provider returned a wrapped key larger than 64 KiB");
  return edk;
}

// A provider's unwrap(). A data key of another length is the provider's fault, not the
// row's (an altered edk fails the provider's own check): KeyUnavailable, and a rotation
// leaves the row as it was instead of wrapping the wrong bytes over its only copy.
SecretBytes unwrap_dek(const KeyProvider& keys, const std::string& kid, const Bytes& edk) {
  SecretBytes dek = provider_call("unwrap", [&] { return keys.unwrap(kid, edk, dek_associated_data(kid)); });
  if (dek.size() != kDekBytes) throw KeyUnavailable("the key provider's unwrap returned a data key of the wrong length");
  return dek;
}

// A wrapped key about to be written is the only way back to its DEK: it must unwrap to
// that DEK again, or the row it goes into never opens. A broken KMS adapter (a wrap that
// returns garbage, one byte, another key's result, or encrypts the DEK's buffer in place)
// fails here, as the provider failing (KeyUnavailable, also when its unwrap says Integrity:
// nothing stored was altered), before anything is written. `unwrap` returns what the
// provider unwraps the edk to.
template <class Unwrap>
void check_unwraps_to(const SecretBytes& dek, Unwrap&& unwrap) {
  const char* failed = "the key provider's wrap did not unwrap to the same data key";
  SecretBytes again;
  try {
    again = unwrap();
  } catch (const Integrity&) {
    throw KeyUnavailable(failed);
  }
  if (again.size() != dek.size() || !Botan::constant_time_compare(again.data(), dek.data(), dek.size()))
    throw KeyUnavailable(failed);
}

}  // namespace

std::string primary_key_id(const KeyProvider& keys) {
  return provider_call("primary_key_id", [&] { return keys.primary_key_id(); });
}

std::string checked_primary_key_id(const KeyProvider& keys) {
  std::string id = primary_key_id(keys);
  if (!is_valid_key_id(id))
    throw KeyUnavailable("the key provider's primary key id is malformed (key ids are 1-128 characters of [A-Za-z0-9._:/-])");
  return id;
}

Bytes dek_associated_data(const std::string& kid) {
  Bytes aad;
  append_field(aad, kDekLabel);
  append_field(aad, kid);
  return aad;
}

Sealer::Sealer(std::shared_ptr<const KeyProvider> keys, const std::string& cipher_name,
               DekCachePolicy cache)
    : keys_(std::move(keys)),
      cipher_(find_cipher(cipher_name)),
      cipher_name_(cipher_name),
      cache_(cache),
      // StaticKeyring's unwrap is an AES-GCM open under the key's KEK: it gives back the
      // bytes that were wrapped there or throws, so it cannot hand a re-wrap another key.
      // A host's provider can (an adapter caching by key id), and for it the check costs
      // little beside the KMS call; for ours it would halve a rotation's throughput.
      rewrap_opens_ciphertext_(dynamic_cast<const StaticKeyring*>(keys_.get()) == nullptr) {
  if (!keys_) throw InvalidArgument("keys", "a key provider is required");
  if (!cipher_) throw InvalidArgument("cipher", "unknown cipher '" + cipher_name + "'");
}

Envelope Sealer::seal(const SecretBytes& plaintext, std::int64_t row_id) const {
  const std::size_t nonce_bytes = cipher_->nonce_length();
  Bytes random(kMessageIdBytes + nonce_bytes);
  random_bytes(random.data(), random.size());

  Envelope e;
  e.alg = cipher_name_;
  e.kid = checked_primary_key_id(*keys_);
  e.mid.assign(random.begin(), random.begin() + kMessageIdBytes);
  e.nonce.assign(random.begin() + kMessageIdBytes, random.end());
  const DekCache::Sealing sealing = cache_.for_sealing(e.kid, [&] {
    DekCache::Sealing fresh;
    fresh.dek.resize(kDekBytes);
    random_bytes(fresh.dek.data(), fresh.dek.size());
    fresh.edk = wrap_dek(*keys_, e.kid, fresh.dek);
    // Checked once per new DEK (so once per cached DEK with the DEK cache on): without it a
    // broken wrap made create, update and import report records stored that never open.
    // The check's unwrap goes through the DEK cache when it is on: a read of the records
    // sealed under this DEK then needs no unwrap of its own.
    check_unwraps_to(fresh.dek, [&] {
      return cache_.for_opening(e.kid, fresh.edk, [&] { return unwrap_dek(*keys_, e.kid, fresh.edk); });
    });
    return fresh;
  });
  e.edk = sealing.edk;
  // A fresh mid makes a fresh content key even when the DEK is reused.
  const SecretBytes key = content_key(sealing.dek, e, cipher_->key_length());
  e.ciphertext = cipher_->seal(key, e.nonce, plaintext, details_associated_data(row_id, e));
  return e;
}

Envelope Sealer::rewrap(const Envelope& e, std::int64_t row_id) const {
  std::shared_ptr<const Cipher> cipher;
  if (rewrap_opens_ciphertext_) {
    cipher = cipher_for(e);
  } else if (e.v != kEnvelopeVersion) {
    throw Integrity("envelope: unsupported version");
  }
  const SecretBytes dek = unwrap_dek(*keys_, e.kid, e.edk);
  // The DEK must open the row's ciphertext before it is wrapped over the row's only copy:
  // an unwrap() that returns 32 bytes of another key (an adapter caching by key id, the
  // wrong KEK behind an id) round-trips under the new key too, and a re-wrap would make
  // the row's loss permanent. Integrity, as open() says; the row stays as it was. (Not
  // needed with our own keyring: see the constructor.)
  if (cipher)
    cipher->open(content_key(dek, e, cipher->key_length()), e.nonce, e.ciphertext, details_associated_data(row_id, e));
  Envelope out = e;
  out.kid = checked_primary_key_id(*keys_);
  out.edk = wrap_dek(*keys_, out.kid, dek);
  // The new edk replaces the row's only copy of its data key: a wrap that does not unwrap
  // again (a broken KMS adapter) must fail here, not leave a row that never opens.
  check_unwraps_to(dek, [&] { return unwrap_dek(*keys_, out.kid, out.edk); });
  return out;
}

std::shared_ptr<const Cipher> Sealer::cipher_for(const Envelope& e) const {
  if (e.v != kEnvelopeVersion) throw Integrity("envelope: unsupported version");
  auto cipher = e.alg == cipher_name_ ? cipher_ : find_cipher(e.alg);
  if (!cipher) throw Integrity("envelope: unknown alg");
  if (e.nonce.size() != cipher->nonce_length()) throw Integrity("envelope: wrong nonce length");
  return cipher;
}

SecretBytes Sealer::open(const Envelope& e, std::int64_t row_id) const {
  const auto cipher = cipher_for(e);
  const SecretBytes dek = cache_.for_opening(
      e.kid, e.edk, [&] { return unwrap_dek(*keys_, e.kid, e.edk); });
  const SecretBytes key = content_key(dek, e, cipher->key_length());
  try {
    return cipher->open(key, e.nonce, e.ciphertext, details_associated_data(row_id, e));
  } catch (const Integrity&) {
    cache_.forget(e.kid, e.edk);
    throw;
  }
}

}  // namespace datahub::crypto
