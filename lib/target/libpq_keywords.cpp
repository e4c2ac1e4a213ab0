#include "target/libpq_keywords.hpp"

#include "model/text.hpp"

#include <datahub/error.hpp>

#include <botan/mem_ops.h>

#include <cstring>

namespace datahub::target {
namespace {

// Our field names where they differ from libpq's; the others are spelled the same.
const char* keyword_for(const std::string& field) {
  static const std::pair<const char*, const char*> map[] = {
      {"host", "host"},       {"port", "port"},
      {"database", "dbname"}, {"username", "user"},
      {"password", "password"}, {"sslmode", "sslmode"},
      {"connect_timeout", "connect_timeout"}, {"application_name", "application_name"},
  };
  for (const auto& [ours, libpq] : map) {
    if (field == ours) return libpq;
  }
  return nullptr;
}

void wipe(std::string& s) noexcept {
  if (!s.empty()) Botan::secure_scrub_memory(&s[0], s.size());
}

}  // namespace

LibpqKeywords::~LibpqKeywords() {
  for (auto& [keyword, value] : pairs_) wipe(value);
}

const std::string* LibpqKeywords::find(const std::string& keyword) const noexcept {
  for (const auto& [k, v] : pairs_) {
    if (k == keyword) return &v;
  }
  return nullptr;
}

void LibpqKeywords::set(const std::string& keyword, const std::string& value) {
  for (auto& [k, v] : pairs_) {
    if (k == keyword) {
      wipe(v);
      v = value;
      return;
    }
  }
  add(keyword, value);
}

void to_libpq_keywords(const Details& details, const std::string& type, LibpqKeywords& out) {
  if (type != "POSTGRESQL") throw InvalidArgument("type", "only POSTGRESQL connections can be used with libpq");
  out.reserve(out.pairs().size() + details.size());
  for (const auto& [field, value] : details) {
    const char* keyword = keyword_for(field);
    if (!keyword) throw InvalidArgument("connection_details." + model::name_for_message(field), "has no libpq keyword");
    if (const auto* text = std::get_if<std::string>(&value)) {
      // libpq strings are NUL-terminated: an embedded NUL would silently cut the value.
      if (std::memchr(text->data(), '\0', text->size()))
        throw InvalidArgument("connection_details." + model::name_for_message(field), "contains a NUL byte");
      out.add(keyword, *text);
    } else {
      out.add(keyword, std::to_string(std::get<std::int64_t>(value)));
    }
  }
}

}  // namespace datahub::target
