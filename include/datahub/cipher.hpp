// Cipher: the AEAD named by an envelope's "alg".
//
// The store seals with the cipher it is configured for and opens any envelope with the
// cipher its "alg" names, looked up here; an unknown name is rejected, never guessed.
// New algorithms are added with register_cipher(), without touching the store.
// Built in: "A256GCM" (AES-256/GCM, 12-byte nonce), "XC20P" (XChaCha20-Poly1305, 24-byte nonce).
#pragma once

#include <datahub/bytes.hpp>
#include <datahub/export.hpp>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace datahub {

class DATAHUB_API Cipher {
 public:
  virtual ~Cipher();

  virtual std::string name() const = 0;  // at most 16 characters: [A-Za-z0-9_-]
  virtual std::size_t key_length() const = 0;
  virtual std::size_t nonce_length() const = 0;

  // Returns ciphertext || tag. Must be thread-safe.
  virtual Bytes seal(const SecretBytes& key, const Bytes& nonce, const SecretBytes& plaintext,
                     const Bytes& aad) const = 0;
  // Throws Integrity when the tag does not verify. Must be thread-safe.
  virtual SecretBytes open(const SecretBytes& key, const Bytes& nonce, const Bytes& ciphertext,
                           const Bytes& aad) const = 0;
};

// Adds (or replaces) the cipher registered under cipher->name(). Thread-safe.
DATAHUB_API void register_cipher(std::shared_ptr<const Cipher> cipher);

// The cipher registered as `name`, or nullptr.
DATAHUB_API std::shared_ptr<const Cipher> find_cipher(std::string_view name);

}  // namespace datahub
