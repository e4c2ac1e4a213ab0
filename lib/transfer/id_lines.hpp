// The ids an import has met and the line each came on: what "id: is also on line N" needs,
// for a file of any length, without holding its records.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <unordered_map>
#include <vector>

namespace datahub::transfer {

class IdLines {
 public:
  // The line `id` (1 to 2^31-1) came on before, or nullopt when it is new: then it is
  // recorded as on `line`. A line past 2^32 - 1 is recorded as 0 (unknown): too rare to
  // cost bytes.
  std::optional<std::size_t> seen_on(std::int64_t id, std::size_t line);

 private:
  void settle();

  // 8 bytes an id (id << 32 | line), sorted; 8 MB for a million lines. Recent ids wait in
  // a small hash map and are merged in together: an insert into the middle of a vector
  // moves everything after it, and a node-based map costs 40+ bytes an id.
  std::vector<std::uint64_t> settled_;
  std::unordered_map<std::uint32_t, std::uint32_t> recent_;
};

}  // namespace datahub::transfer
