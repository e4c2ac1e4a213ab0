// Cipher names as they travel in an envelope's "alg": 1-16 characters of [A-Za-z0-9_-].
#pragma once

#include <string_view>

namespace datahub::crypto {

inline bool is_valid_cipher_name(std::string_view name) noexcept {
  if (name.empty() || name.size() > 16) return false;
  for (char c : name) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace datahub::crypto
