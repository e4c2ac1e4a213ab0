#include "crypto/dek_cache.hpp"

namespace datahub::crypto {

DekCache::Sealing DekCache::for_sealing(const std::string& kid, const std::function<Sealing()>& make) {
  if (!enabled()) return make();
  std::lock_guard<std::mutex> lock(sealing_mutex_);
  const auto now = Clock::now();
  auto it = sealing_.find(kid);
  if (it == sealing_.end() || now - it->second.created >= policy_.ttl ||
      it->second.uses >= policy_.max_uses) {
    // The provider is called under the sealing lock: when it is slow, one caller waits
    // for it and the other sealers reuse its result instead of all calling it at once.
    // Reads take the other lock and go on meanwhile.
    sealing_[kid] = SealEntry{make(), now, 0};
    it = sealing_.find(kid);
  }
  ++it->second.uses;
  return it->second.sealing;
}

SecretBytes DekCache::for_opening(const std::string& kid, const Bytes& edk,
                                  const std::function<SecretBytes()>& unwrap) {
  if (!enabled()) return unwrap();
  const auto now = Clock::now();
  auto key = std::make_pair(kid, edk);
  {
    std::lock_guard<std::mutex> lock(opening_mutex_);
    auto it = opening_.find(key);
    if (it != opening_.end() && now - it->second.created < policy_.ttl) return it->second.dek;
  }
  SecretBytes dek = unwrap();  // outside the lock: reads of other keys go on meanwhile
  std::lock_guard<std::mutex> lock(opening_mutex_);
  if (opening_.size() >= policy_.max_entries) opening_.clear();  // simple and bounded
  opening_[key] = OpenEntry{dek, now};
  return dek;
}

void DekCache::forget(const std::string& kid, const Bytes& edk) {
  if (!enabled()) return;
  std::lock_guard<std::mutex> lock(opening_mutex_);
  opening_.erase(std::make_pair(kid, edk));
}

}  // namespace datahub::crypto
