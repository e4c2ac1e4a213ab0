// Envelope v1: the JSON object stored in connection_details.
//   {"v":1,"alg":"A256GCM","kid":"...","mid":"<b64 32B>","edk":"<b64>","n":"<b64>","ct":"<b64>"}
#pragma once

#include <datahub/bytes.hpp>

#include <string>
#include <string_view>

namespace datahub::crypto {

inline constexpr int kEnvelopeVersion = 1;
inline constexpr std::size_t kMessageIdBytes = 32;

struct Envelope {
  int v = kEnvelopeVersion;
  std::string alg;    // a registered Cipher name
  std::string kid;    // the KEK that wrapped the DEK
  Bytes mid;          // per-message id: the HKDF salt, and in the associated data
  Bytes edk;          // the wrapped DEK
  Bytes nonce;        // "n"
  Bytes ciphertext;   // "ct": ciphertext || tag
};

std::string to_json(const Envelope& envelope);

// Strict: exactly the seven members, v == 1, canonical base64, a 32-byte mid.
// Throws Integrity (the stored value is not one we wrote).
Envelope parse_envelope(std::string_view json);

}  // namespace datahub::crypto
