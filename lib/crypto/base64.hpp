// Base64 (RFC 4648, padded), decoded strictly. Secrets (keys) decode through Botan in
// constant time; public envelope fields encode and decode through a fast table (see
// base64.cpp).
#pragma once

#include <datahub/bytes.hpp>

#include <string>
#include <string_view>

namespace datahub::crypto {

// For public bytes only (ciphertexts, nonces, wrapped keys): not constant-time.
std::string base64_encode(const std::uint8_t* data, std::size_t size);
template <typename Buffer>
std::string base64_encode(const Buffer& bytes) {
  return base64_encode(bytes.data(), bytes.size());
}

// Accepts only the canonical encoding (what re-encodes to the same text), so one value
// has one spelling. Returns false on anything else.
bool base64_decode_strict(std::string_view text, Bytes& out);
bool base64_decode_strict(std::string_view text, SecretBytes& out);

}  // namespace datahub::crypto
