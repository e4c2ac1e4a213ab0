// Key ids are opaque labels: 1-128 characters of [A-Za-z0-9._:/-].
#pragma once

#include <string_view>

namespace datahub::crypto {

inline bool is_valid_key_id(std::string_view id) noexcept {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == ':' || c == '/' || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace datahub::crypto
