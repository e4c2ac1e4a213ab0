// A fixed keyring for the targets that seal and open: the seed envelopes in
// corpus/envelope/ were sealed under these keys (to row id 1), so mutations of them reach
// the cipher code rather than stopping at the first unknown key id.
#pragma once

#include <datahub/key_provider.hpp>

#include <memory>

namespace fuzz {

inline constexpr const char* kPrimaryKid = "fuzz:k1";
inline constexpr const char* kOtherKid = "fuzz:k2";

inline std::shared_ptr<const datahub::KeyProvider> fixed_keys() {
  static const std::shared_ptr<const datahub::KeyProvider> keys = [] {
    datahub::SecretBytes k1(32), k2(48);
    for (std::size_t i = 0; i < k1.size(); ++i) k1[i] = static_cast<std::uint8_t>(i * 7 + 1);
    for (std::size_t i = 0; i < k2.size(); ++i) k2[i] = static_cast<std::uint8_t>(255 - i * 3);
    std::vector<datahub::StaticKeyring::Key> ring;
    ring.emplace_back(kPrimaryKid, std::move(k1));
    ring.emplace_back(kOtherKid, std::move(k2));
    return std::make_shared<datahub::StaticKeyring>(kPrimaryKid, std::move(ring));
  }();
  return keys;
}

}  // namespace fuzz
