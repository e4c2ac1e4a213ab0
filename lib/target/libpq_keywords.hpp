// Details -> libpq keywords (database -> dbname, username -> user, ...), shared by
// test_connection, to_conninfo and to_uri so the three agree on the mapping.
#pragma once

#include <datahub/details.hpp>

#include <string>
#include <utility>
#include <vector>

namespace datahub::target {

// (keyword, value) pairs in the details' order; the values may include a password, so
// the holder wipes them when destroyed.
class LibpqKeywords {
 public:
  using Pair = std::pair<std::string, std::string>;

  LibpqKeywords() = default;
  LibpqKeywords(const LibpqKeywords&) = delete;
  LibpqKeywords& operator=(const LibpqKeywords&) = delete;
  ~LibpqKeywords();

  // Room for n pairs: pairs added within it never move (a moved short string leaves its
  // bytes behind in the freed buffer).
  void reserve(std::size_t n) { pairs_.reserve(n); }
  void add(std::string keyword, std::string value) { pairs_.emplace_back(std::move(keyword), std::move(value)); }
  // Replaces the value of `keyword` (the old one wiped), or adds the pair.
  void set(const std::string& keyword, const std::string& value);
  // The value for `keyword`, or nullptr.
  const std::string* find(const std::string& keyword) const noexcept;
  const std::vector<Pair>& pairs() const noexcept { return pairs_; }

 private:
  std::vector<Pair> pairs_;
};

// Throws InvalidArgument("type") unless `type` is POSTGRESQL, and
// InvalidArgument("connection_details.<field>") for a field without a libpq keyword.
// Does not validate the values: the store did that when they were written.
void to_libpq_keywords(const Details& details, const std::string& type, LibpqKeywords& out);

// "keyword='value' ...", every value quoted, so libpq reads back exactly the pairs. It may
// hold the password: the caller wipes it.
std::string conninfo_of(const LibpqKeywords& keywords);

}  // namespace datahub::target
