#include "transfer/passphrase_seal.hpp"

#include "model/text.hpp"

#include <datahub/cipher.hpp>
#include <datahub/error.hpp>

#include <botan/mem_ops.h>
#include <botan/pwdhash.h>
#include <botan/system_rng.h>

namespace datahub::transfer {
namespace {

constexpr std::size_t kSaltBytes = 16;
constexpr std::size_t kKeyBytes = 32;
constexpr std::size_t kMaxDistinctSalts = 8;

std::shared_ptr<const Cipher> aead(const std::string& name, const std::string& field) {
  // Only the one AEAD this format was defined with; a file naming another is refused.
  auto cipher = name == "A256GCM" ? find_cipher(name) : nullptr;
  if (!cipher) throw InvalidArgument(field, "unknown AEAD (expected A256GCM)");
  return cipher;
}

SecretBytes stretch(const std::string& passphrase, const KdfParams& kdf, const Bytes& salt) {
  kdf.check("sealed_secrets.kdf");
  const auto family = Botan::PasswordHashFamily::create_or_throw(kdf.alg == "argon2id" ? "Argon2id" : "Scrypt");
  const auto hash = family->from_params(kdf.a, kdf.b, kdf.c);
  SecretBytes key(kKeyBytes);
  hash->derive_key(key.data(), key.size(), passphrase.data(), passphrase.size(), salt.data(), salt.size());
  return key;
}

bool is_power_of_two(std::size_t n) { return n != 0 && (n & (n - 1)) == 0; }

}  // namespace

KdfParams KdfParams::defaults(PassphraseKdf kdf) {
  // Argon2id: RFC 9106's second recommendation but one lane; scrypt: the classic 2^15, 8, 1.
  if (kdf == PassphraseKdf::scrypt) return {"scrypt", 32768, 8, 1};
  return {"argon2id", 65536, 3, 1};
}

void KdfParams::check(const std::string& field) const {
  if (alg == "argon2id") {
    if (c < 1 || c > 16) throw InvalidArgument(field + ".p", "must be 1 to 16");
    if (a < 8 * c || a > 1048576) throw InvalidArgument(field + ".m", "must be 8*p to 1048576 KiB");
    if (b < 1 || b > 20) throw InvalidArgument(field + ".t", "must be 1 to 20");
  } else if (alg == "scrypt") {
    if (!is_power_of_two(a) || a < 1024 || a > 1048576)
      throw InvalidArgument(field + ".N", "must be a power of two, 1024 to 1048576");
    if (b < 1 || b > 32) throw InvalidArgument(field + ".r", "must be 1 to 32");
    if (c < 1 || c > 16) throw InvalidArgument(field + ".p", "must be 1 to 16");
  } else {
    throw InvalidArgument(field + ".alg", "must be argon2id or scrypt");
  }
  // Each range alone still allowed m=1 GiB with t=20 (~30 s), or scrypt N=2^20, r=32
  // (4 GiB) with p=16 (~4 min): bound the product too.
  if (work() > kMaxStretchWork)
    throw InvalidArgument(field, "asks for more than " + std::to_string(static_cast<int>(kMaxStretchWork)) +
                                     " times the default key-stretching work");
}

double KdfParams::work() const {
  // Argon2id's lanes run one after another here (Botan), so its time goes with m*t.
  const KdfParams base = defaults(alg == "scrypt" ? PassphraseKdf::scrypt : PassphraseKdf::argon2id);
  if (alg == "scrypt") return static_cast<double>(a) * b * c / (static_cast<double>(base.a) * base.b * base.c);
  return static_cast<double>(a) * b / (static_cast<double>(base.a) * base.b);
}

PassphraseSealer::PassphraseSealer(const std::string& passphrase, PassphraseKdf kdf)
    : kdf_(KdfParams::defaults(kdf)) {
  if (!model::is_clean_utf8(passphrase) || model::utf8_length(passphrase) < kMinPassphraseChars)
    throw InvalidArgument("passphrase", "must be at least " + std::to_string(kMinPassphraseChars) +
                                            " characters of UTF-8");
  Botan::system_rng().random_vec(salt_, kSaltBytes);
  key_ = stretch(passphrase, kdf_, salt_);
}

SealedSecrets PassphraseSealer::seal(const SecretBytes& plaintext, const Bytes& aad) const {
  SealedSecrets out;
  out.kdf = kdf_;
  out.salt = salt_;
  const auto cipher = aead(out.aead, "aead");
  // A random 96-bit nonce per record under one key: far below GCM's 2^32 message bound.
  Botan::system_rng().random_vec(out.nonce, cipher->nonce_length());
  out.ct = cipher->seal(key_, out.nonce, plaintext, aad);
  return out;
}

PassphraseOpener::PassphraseOpener(std::string passphrase) : passphrase_(std::move(passphrase)) {}

PassphraseOpener::~PassphraseOpener() {
  if (!passphrase_.empty()) Botan::secure_scrub_memory(&passphrase_[0], passphrase_.size());
}

SecretBytes PassphraseOpener::open(const SealedSecrets& sealed, const Bytes& aad) {
  const auto cipher = aead(sealed.aead, "sealed_secrets.aead");
  if (sealed.nonce.size() != cipher->nonce_length())
    throw InvalidArgument("sealed_secrets.nonce", "has the wrong length");
  if (sealed.salt.size() < 16 || sealed.salt.size() > 64)
    throw InvalidArgument("sealed_secrets.salt", "must be 16 to 64 bytes");
  auto slot = keys_.find({sealed.kdf, sealed.salt});
  // An export uses one salt; a crafted file with a salt per line would make us stretch
  // the passphrase (64 MiB, ~0.2 s) once per line.
  if (slot == keys_.end() && keys_.size() >= kMaxDistinctSalts)
    throw InvalidArgument("sealed_secrets.salt", "too many different salts in one file (at most " +
                                                     std::to_string(kMaxDistinctSalts) + ")");
  if (slot == keys_.end()) {
    // Within the salt limit, stretches of 16x the default each would still add up.
    sealed.kdf.check("sealed_secrets.kdf");  // parse_line checked it too; this is where the work is spent
    const double work = sealed.kdf.work();
    if (work_spent_ + work > kMaxImportStretchWork)
      throw InvalidArgument("sealed_secrets.kdf", "the file asks for more key stretching than one import allows");
    work_spent_ += work;
    slot = keys_.emplace(std::make_pair(sealed.kdf, sealed.salt), stretch(passphrase_, sealed.kdf, sealed.salt)).first;
  }
  try {
    return cipher->open(slot->second, sealed.nonce, sealed.ct, aad);
  } catch (const Integrity&) {
    throw Integrity("sealed secrets do not open: wrong passphrase, or the record was altered");
  }
}

}  // namespace datahub::transfer
