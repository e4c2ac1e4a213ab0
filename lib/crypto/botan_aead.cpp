#include "crypto/botan_aead.hpp"

#include <datahub/error.hpp>

#include <botan/aead.h>

#include <unordered_map>

namespace datahub {

Cipher::~Cipher() = default;

namespace crypto {
namespace {

class BotanAead final : public Cipher {
 public:
  BotanAead(std::string name, std::string botan_spec, std::size_t nonce_length)
      : name_(std::move(name)), spec_(std::move(botan_spec)), nonce_length_(nonce_length) {}

  std::string name() const override { return name_; }
  std::size_t key_length() const override { return 32; }
  std::size_t nonce_length() const override { return nonce_length_; }

  Bytes seal(const SecretBytes& key, const Bytes& nonce, const SecretBytes& plaintext,
             const Bytes& aad) const override {
    auto& mode = mode_for(Botan::ENCRYPTION);
    SecretBytes buffer(plaintext.begin(), plaintext.end());
    const KeyedForOneMessage keyed(mode, key);
    mode.set_associated_data_vec(aad);
    mode.start(nonce);
    mode.finish(buffer);
    return Bytes(buffer.begin(), buffer.end());
  }

  SecretBytes open(const SecretBytes& key, const Bytes& nonce, const Bytes& ciphertext,
                   const Bytes& aad) const override {
    if (ciphertext.size() < 16) throw Integrity("ciphertext is too short");
    auto& mode = mode_for(Botan::DECRYPTION);
    SecretBytes buffer(ciphertext.begin(), ciphertext.end());
    const KeyedForOneMessage keyed(mode, key);
    mode.set_associated_data_vec(aad);
    mode.start(nonce);
    try {
      mode.finish(buffer);
    } catch (const Botan::Invalid_Authentication_Tag&) {
      throw Integrity("ciphertext failed authentication");
    }
    return buffer;
  }

 private:
  // Keys a thread's reused mode object for one message. Afterwards, on every path, the
  // message state is reset and the key schedule overwritten with an all-zero key's.
  // (clear() would wipe them too, but frees them, and the next message's set_key then
  // allocates them again: trips through Botan's locked-memory pool, one mutex for the
  // whole process, on every message; measurable when threads decrypt at once.)
  class KeyedForOneMessage {
   public:
    KeyedForOneMessage(Botan::AEAD_Mode& mode, const SecretBytes& key) : mode_(mode) {
      try {
        mode_.set_key(key);
      } catch (...) {
        mode_.clear();
        throw;
      }
    }
    ~KeyedForOneMessage() {
      static const std::uint8_t zeros[32] = {};
      try {
        mode_.reset();
        mode_.set_key(zeros, sizeof zeros);
      } catch (...) {
        mode_.clear();  // frees instead; the key never stays behind
      }
    }
    KeyedForOneMessage(const KeyedForOneMessage&) = delete;
    KeyedForOneMessage& operator=(const KeyedForOneMessage&) = delete;

   private:
    Botan::AEAD_Mode& mode_;
  };

  // Botan mode objects are not thread-safe and costly to create: one per thread and cipher.
  Botan::AEAD_Mode& mode_for(Botan::Cipher_Dir direction) const {
    thread_local std::unordered_map<std::string, std::unique_ptr<Botan::AEAD_Mode>> modes;
    auto& slot = modes[spec_ + (direction == Botan::ENCRYPTION ? "/e" : "/d")];
    if (!slot) slot = Botan::AEAD_Mode::create_or_throw(spec_, direction);
    return *slot;
  }

  std::string name_;
  std::string spec_;
  std::size_t nonce_length_;
};

}  // namespace

std::shared_ptr<const Cipher> make_a256gcm() {
  return std::make_shared<BotanAead>("A256GCM", "AES-256/GCM", 12);
}

std::shared_ptr<const Cipher> make_xc20p() {
  // Botan's ChaCha20Poly1305 becomes XChaCha20-Poly1305 when given a 24-byte nonce.
  return std::make_shared<BotanAead>("XC20P", "ChaCha20Poly1305", 24);
}

}  // namespace crypto
}  // namespace datahub
