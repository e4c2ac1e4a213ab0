// Byte buffers used across the crypto interfaces.
#pragma once

#include <botan/secmem.h>

#include <cstdint>
#include <vector>

namespace datahub {

using Bytes = std::vector<std::uint8_t>;                 // public: ciphertexts, nonces, ids
using SecretBytes = Botan::secure_vector<std::uint8_t>;  // keys and plaintext; wiped when freed

}  // namespace datahub
