// HKDF-SHA256 (RFC 5869) for outputs of at most one hash block (32 bytes).
//
// Same output as Botan's "HKDF(SHA-256)", without its per-call object creation and
// allocations, which cost a record more than the AEAD itself (docs/benchmarks.md).
#pragma once

#include <datahub/bytes.hpp>

#include <string_view>

namespace datahub::crypto {

SecretBytes hkdf_sha256(const SecretBytes& secret, const std::uint8_t* salt, std::size_t salt_size,
                        std::string_view info, std::size_t length);

}  // namespace datahub::crypto
