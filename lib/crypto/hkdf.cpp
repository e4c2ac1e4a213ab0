#include "crypto/hkdf.hpp"

#include <datahub/error.hpp>

#include <botan/mac.h>
#include <botan/mem_ops.h>

namespace datahub::crypto {

SecretBytes hkdf_sha256(const SecretBytes& secret, const std::uint8_t* salt, std::size_t salt_size,
                        std::string_view info, std::size_t length) {
  if (length == 0 || length > 32) throw Error(ErrorCode::internal, "hkdf: length must be 1 to 32");
  thread_local const auto hmac = Botan::MessageAuthenticationCode::create_or_throw("HMAC(SHA-256)");
  // Extract: PRK = HMAC(salt, secret). Expand, one block: T(1) = HMAC(PRK, info || 0x01).
  // Intermediate values stay on the stack (wiped below): no allocation but the result.
  std::uint8_t prk[32];
  hmac->set_key(salt, salt_size);
  hmac->update(secret);
  hmac->final(prk);
  hmac->set_key(prk, sizeof prk);
  hmac->update(reinterpret_cast<const std::uint8_t*>(info.data()), info.size());
  hmac->update(0x01);
  SecretBytes okm(32);
  hmac->final(okm.data());
  // The object keeps the PRK's pads: overwrite them in place with a zero key's (clear()
  // would free them, and the next call would allocate them again).
  static const std::uint8_t zeros[32] = {};
  hmac->set_key(zeros, sizeof zeros);
  Botan::secure_scrub_memory(prk, sizeof prk);
  okm.resize(length);
  return okm;
}

}  // namespace datahub::crypto
