// Helpers shared by the export/import tests (transfer_test.cpp, import_batches_test.cpp).
#pragma once

#include "support.hpp"

#include <datahub/transfer.hpp>

#include <doctest/doctest.h>

#include <functional>
#include <sstream>
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

}  // namespace test
