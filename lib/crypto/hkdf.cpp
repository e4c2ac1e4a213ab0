#include "crypto/hkdf.hpp"

#include <datahub/error.hpp>

#include <botan/mac.h>

namespace datahub::crypto {

SecretBytes hkdf_sha256(const SecretBytes& secret, const std::uint8_t* salt, std::size_t salt_size,
                        std::string_view info, std::size_t length) {
  if (length == 0 || length > 32) throw Error(ErrorCode::internal, "hkdf: length must be 1 to 32");
  thread_local const auto hmac = Botan::MessageAuthenticationCode::create_or_throw("HMAC(SHA-256)");
  // Extract: PRK = HMAC(salt, secret). Expand, one block: T(1) = HMAC(PRK, info || 0x01).
  hmac->set_key(salt, salt_size);
  hmac->update(secret);
  const SecretBytes prk = hmac->final();
  hmac->set_key(prk);
  hmac->update(reinterpret_cast<const std::uint8_t*>(info.data()), info.size());
  hmac->update(0x01);
  SecretBytes okm = hmac->final();
  hmac->clear();
  okm.resize(length);
  return okm;
}

}  // namespace datahub::crypto
