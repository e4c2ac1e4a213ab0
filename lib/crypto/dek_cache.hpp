// DekCache: reuse of data keys for slow key providers (see DekCacheOptions in store.hpp).
#pragma once

#include <datahub/bytes.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <utility>

namespace datahub::crypto {

struct DekCachePolicy {
  std::chrono::steady_clock::duration ttl{0};  // zero: the cache is off
  std::uint32_t max_uses = 1000;
  std::size_t max_entries = 4096;
};

class DekCache {
 public:
  using Clock = std::chrono::steady_clock;
  struct Sealing {
    SecretBytes dek;
    Bytes edk;
  };

  explicit DekCache(DekCachePolicy policy) : policy_(policy) {}
  bool enabled() const noexcept { return policy_.ttl.count() > 0; }

  // A DEK to seal one more record under `kid`: the cached one while it is young and not
  // used up, else what `make` returns (then cached).
  Sealing for_sealing(const std::string& kid, const std::function<Sealing()>& make);

  // The DEK wrapped as `edk` under `kid`: from the cache, else `unwrap()` (then cached).
  SecretBytes for_opening(const std::string& kid, const Bytes& edk,
                          const std::function<SecretBytes()>& unwrap);

  // Drops the DEK cached for `edk`: it did not open the record (a provider's wrong unwrap,
  // or a damaged row), so the next read asks the provider again instead of failing for the
  // rest of the ttl.
  void forget(const std::string& kid, const Bytes& edk);

 private:
  struct SealEntry {
    Sealing sealing;
    Clock::time_point created;
    std::uint32_t uses = 0;
  };
  struct OpenEntry {
    SecretBytes dek;
    Clock::time_point created;
  };

  DekCachePolicy policy_;
  // Two locks: the sealing one is held while the provider wraps a new DEK (a remote KMS
  // may take long), and reads of cached DEKs must not wait for that.
  std::mutex sealing_mutex_;  // guards sealing_
  std::mutex opening_mutex_;  // guards opening_
  std::map<std::string, SealEntry> sealing_;
  std::map<std::pair<std::string, Bytes>, OpenEntry> opening_;
};

}  // namespace datahub::crypto
