// Helpers shared by the export/import tests (transfer_test.cpp, import_batches_test.cpp).
#pragma once

#include "support.hpp"

#include <datahub/transfer.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <functional>
#include <sstream>
#include <streambuf>
#include <string>

namespace test {

inline datahub::ImportReport import_text(const std::string& text, std::function<std::string()> passphrase = {}) {
  std::istringstream in(text);
  datahub::ImportOptions options;
  options.passphrase = std::move(passphrase);
  return datahub::import_connections(test::store(), in, options);
}

// The table's rows as text, to show that a refused import changed nothing.
inline std::string table_snapshot() {
  std::string out;
  for (const auto& c : test::store().list({}, datahub::Secrets::reveal).items) {
    out += std::to_string(c.id) + "|" + c.name + "|" + datahub::format_timestamp(c.updated_at) + "|";
    for (const auto& [field, value] : c.details) {
      const auto* text = std::get_if<std::string>(&value);
      out += field + "=" + (text ? *text : std::to_string(std::get<std::int64_t>(value))) + ";";
    }
    out += "\n";
  }
  return out;
}

// `line` with the first occurrence of `from` replaced by `to`.
inline std::string replaced(std::string line, const std::string& from, const std::string& to) {
  const auto at = line.find(from);
  REQUIRE(at != std::string::npos);
  return line.replace(at, from.size(), to);
}

// A stream of `head`, then `fill` repeated `count` times with no line end (/dev/zero, cut
// off so that a reader that never stops still ends). served(): the bytes taken from it.
class EndlessBytes : public std::streambuf {
 public:
  EndlessBytes(std::string head, char fill, std::size_t count) : head_(std::move(head)), fill_(fill), left_(count) {}
  std::size_t served() const { return served_; }

 protected:
  int_type underflow() override {
    if (!head_.empty()) {
      chunk_.swap(head_);
      head_.clear();
    } else if (left_ > 0) {
      chunk_.assign(std::min<std::size_t>(left_, 64 * 1024), fill_);
      left_ -= chunk_.size();
    } else {
      return traits_type::eof();
    }
    served_ += chunk_.size();
    setg(chunk_.data(), chunk_.data(), chunk_.data() + chunk_.size());
    return traits_type::to_int_type(chunk_[0]);
  }

 private:
  std::string head_, chunk_;
  char fill_;
  std::size_t left_, served_ = 0;
};

}  // namespace test
