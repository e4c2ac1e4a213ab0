// The built-in ciphers, on Botan's AEAD modes.
#pragma once

#include <datahub/cipher.hpp>

#include <memory>

namespace datahub::crypto {

std::shared_ptr<const Cipher> make_a256gcm();  // "A256GCM": AES-256/GCM, 12-byte nonce
std::shared_ptr<const Cipher> make_xc20p();    // "XC20P": XChaCha20-Poly1305, 24-byte nonce

}  // namespace datahub::crypto
