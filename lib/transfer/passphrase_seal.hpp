// Secrets sealed to a passphrase: a key stretched with Argon2id or scrypt (Botan), then
// AES-256/GCM with a fresh nonce per record. Knows nothing of JSON or records.
#pragma once

#include <datahub/bytes.hpp>
#include <datahub/transfer.hpp>

#include <cstddef>
#include <map>
#include <string>
#include <tuple>

namespace datahub::transfer {

// What stretched the key. For argon2id: m (KiB), t (passes), p (lanes);
// for scrypt: N, r, p. Stored with every sealed record.
struct KdfParams {
  std::string alg;  // "argon2id" or "scrypt"
  std::size_t a = 0, b = 0, c = 0;

  static KdfParams defaults(PassphraseKdf kdf);
  // Throws InvalidArgument(field, ...) for an unknown alg or out-of-range parameters:
  // a crafted file must not make us spend gigabytes or hours. Each parameter has its
  // range, and together they may ask for at most kMaxStretchWork times the default's work
  // (Argon2id m*t, scrypt N*r*p; so scrypt's 128*N*r bytes stay within 512 MiB).
  void check(const std::string& field) const;
  // The work of one stretch with these parameters, in multiples of its default's.
  double work() const;
  friend bool operator<(const KdfParams& x, const KdfParams& y) {
    return std::tie(x.alg, x.a, x.b, x.c) < std::tie(y.alg, y.a, y.b, y.c);
  }
};

struct SealedSecrets {
  KdfParams kdf;
  Bytes salt;
  std::string aead = "A256GCM";
  Bytes nonce;
  Bytes ct;  // ciphertext || tag
};

inline constexpr std::size_t kMinPassphraseChars = 8;
// One stretch may cost this many times the default's (Argon2id ~0.25 s here, scrypt ~0.1 s);
// all the stretches of one import together twice that.
inline constexpr double kMaxStretchWork = 16;
inline constexpr double kMaxImportStretchWork = 2 * kMaxStretchWork;

// One stretched key, for sealing a whole export.
class PassphraseSealer {
 public:
  // Draws a salt and stretches the passphrase (slow on purpose: ~0.1-1 s).
  // Throws InvalidArgument("passphrase") when it is shorter than kMinPassphraseChars.
  PassphraseSealer(const std::string& passphrase, PassphraseKdf kdf);
  SealedSecrets seal(const SecretBytes& plaintext, const Bytes& aad) const;

 private:
  KdfParams kdf_;
  Bytes salt_;
  SecretBytes key_;
};

// Opens sealed secrets, stretching each distinct (kdf, salt) only once.
class PassphraseOpener {
 public:
  explicit PassphraseOpener(std::string passphrase);
  ~PassphraseOpener();
  // Throws Integrity when the passphrase is wrong or anything sealed or bound was altered,
  // InvalidArgument for unknown algorithms or bad parameters.
  SecretBytes open(const SealedSecrets& sealed, const Bytes& aad);

 private:
  std::string passphrase_;
  std::map<std::pair<KdfParams, Bytes>, SecretBytes> keys_;
  double work_spent_ = 0;  // by the stretches so far, in KdfParams::work() units
};

}  // namespace datahub::transfer
