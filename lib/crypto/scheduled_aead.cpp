#include "crypto/scheduled_aead.hpp"

#include <datahub/error.hpp>

namespace datahub::crypto {

// Keyed mode objects for one direction, handed out one per concurrent call.
class ScheduledAead::Modes {
 public:
  Modes(const std::string& spec, const SecretBytes& key, Botan::Cipher_Dir direction)
      : spec_(spec), key_(key), direction_(direction) {}

  // Calls fn(mode) with a keyed mode object that no other thread uses meanwhile. The object
  // goes back reset (no half-finished message in it, whatever fn threw), key kept.
  template <typename Fn>
  auto with_mode(Fn&& fn) {
    std::unique_ptr<Botan::AEAD_Mode> mode = take();
    struct GiveBack {
      Modes& modes;
      std::unique_ptr<Botan::AEAD_Mode>& mode;
      ~GiveBack() {
        mode->reset();
        std::lock_guard<std::mutex> lock(modes.mutex_);
        modes.free_.push_back(std::move(mode));  // never allocates: room is reserved in take()
      }
    } give_back{*this, mode};
    return fn(*mode);
  }

 private:
  std::unique_ptr<Botan::AEAD_Mode> take() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!free_.empty()) {
        auto mode = std::move(free_.back());
        free_.pop_back();
        return mode;
      }
    }
    auto mode = Botan::AEAD_Mode::create_or_throw(spec_, direction_);
    mode->set_key(key_);
    std::lock_guard<std::mutex> lock(mutex_);
    free_.reserve(++created_);  // so that every object made can be given back without allocating
    return mode;
  }

  std::string spec_;
  SecretBytes key_;
  Botan::Cipher_Dir direction_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<Botan::AEAD_Mode>> free_;
  std::size_t created_ = 0;
};

ScheduledAead::ScheduledAead(const std::string& botan_spec, const SecretBytes& key)
    : encrypt_(std::make_unique<Modes>(botan_spec, key, Botan::ENCRYPTION)),
      decrypt_(std::make_unique<Modes>(botan_spec, key, Botan::DECRYPTION)) {}

ScheduledAead::~ScheduledAead() = default;

Bytes ScheduledAead::seal(const std::uint8_t* nonce, std::size_t nonce_size,
                          const SecretBytes& plaintext, const Bytes& aad, const Bytes& prefix) const {
  return encrypt_->with_mode([&](Botan::AEAD_Mode& mode) {
    // Encrypted in place in a secure buffer: the plaintext never sits in a plain vector.
    SecretBytes buffer(plaintext.begin(), plaintext.end());
    mode.set_associated_data(aad.data(), aad.size());
    mode.start(nonce, nonce_size);
    mode.finish(buffer);
    Bytes out;
    out.reserve(prefix.size() + buffer.size());
    out.insert(out.end(), prefix.begin(), prefix.end());
    out.insert(out.end(), buffer.begin(), buffer.end());
    return out;
  });
}

SecretBytes ScheduledAead::open(const std::uint8_t* nonce, std::size_t nonce_size,
                                const std::uint8_t* sealed, std::size_t sealed_size,
                                const Bytes& aad) const {
  if (sealed_size < 16) throw Integrity("ciphertext is too short");
  return decrypt_->with_mode([&](Botan::AEAD_Mode& mode) {
    SecretBytes buffer(sealed, sealed + sealed_size);
    mode.set_associated_data(aad.data(), aad.size());
    mode.start(nonce, nonce_size);
    try {
      mode.finish(buffer);
    } catch (const Botan::Invalid_Authentication_Tag&) {
      throw Integrity("ciphertext failed authentication");
    }
    return buffer;
  });
}

}  // namespace datahub::crypto
