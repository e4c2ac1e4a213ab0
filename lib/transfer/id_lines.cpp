#include "transfer/id_lines.hpp"

#include <algorithm>
#include <limits>

namespace datahub::transfer {
namespace {

constexpr std::size_t kRecent = 4096;  // ids merged into settled_ at a time

std::uint64_t key(std::uint32_t id, std::uint32_t line) { return std::uint64_t{id} << 32 | line; }

}  // namespace

std::optional<std::size_t> IdLines::seen_on(std::int64_t id, std::size_t line) {
  const auto id32 = static_cast<std::uint32_t>(id);
  if (auto it = recent_.find(id32); it != recent_.end()) return it->second;
  // The first key of this id, if any: line numbers fill the low 32 bits.
  auto at = std::lower_bound(settled_.begin(), settled_.end(), key(id32, 0));
  if (at != settled_.end() && *at >> 32 == id32) return static_cast<std::uint32_t>(*at);
  const bool fits = line <= std::numeric_limits<std::uint32_t>::max();
  recent_.emplace(id32, fits ? static_cast<std::uint32_t>(line) : 0);
  if (recent_.size() >= kRecent) settle();
  return std::nullopt;
}

// Merges the recent ids in from the back. An export lists ids in order, so the recent ones
// usually all sort after the settled: then nothing settled moves.
void IdLines::settle() {
  std::vector<std::uint64_t> fresh;
  fresh.reserve(recent_.size());
  for (const auto& [id, line] : recent_) fresh.push_back(key(id, line));
  recent_.clear();
  std::sort(fresh.begin(), fresh.end());
  std::size_t old_end = settled_.size(), write = old_end + fresh.size(), take = fresh.size();
  settled_.resize(write);
  while (take > 0) {
    if (old_end > 0 && settled_[old_end - 1] > fresh[take - 1]) {
      settled_[--write] = settled_[--old_end];
    } else {
      settled_[--write] = fresh[--take];
    }
  }
}

}  // namespace datahub::transfer
