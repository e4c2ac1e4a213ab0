// ScheduledAead: one long-lived key whose AEAD key schedule is computed once.
//
// A keyring's wrapping keys seal and open a DEK on every record; setting the key on each
// call (AES key expansion, GHASH tables) cost more than the wrap itself. Botan's mode
// objects are not thread-safe, so each call borrows a keyed one from a free list and
// gives it back; the list grows to the number of threads that used the key at once.
// The objects live and die with this one, so no key schedule outlives its keyring.
#pragma once

#include <datahub/bytes.hpp>

#include <botan/aead.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace datahub::crypto {

class ScheduledAead {
 public:
  ScheduledAead(const std::string& botan_spec, const SecretBytes& key);
  ~ScheduledAead();
  ScheduledAead(const ScheduledAead&) = delete;
  ScheduledAead& operator=(const ScheduledAead&) = delete;

  // Returns ciphertext || tag, after `prefix` (which is copied first).
  Bytes seal(const std::uint8_t* nonce, std::size_t nonce_size, const SecretBytes& plaintext,
             const Bytes& aad, const Bytes& prefix = {}) const;
  // Throws Integrity when the tag does not verify.
  SecretBytes open(const std::uint8_t* nonce, std::size_t nonce_size, const std::uint8_t* sealed,
                   std::size_t sealed_size, const Bytes& aad) const;

 private:
  class Modes;
  std::unique_ptr<Modes> encrypt_;
  std::unique_ptr<Modes> decrypt_;
};

}  // namespace datahub::crypto
