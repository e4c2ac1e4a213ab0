// to_conninfo and to_uri: a record's details as one string libpq parses back unchanged.
#include "store/pq.hpp"
#include "target/libpq_keywords.hpp"

#include <datahub/target.hpp>

#include <cctype>

namespace datahub {
namespace {

bool is_unreserved(unsigned char c) {
  return std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

void append_percent_encoded(std::string& out, const std::string& value) {
  static const char hex[] = "0123456789ABCDEF";
  for (unsigned char c : value) {
    if (is_unreserved(c)) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 0x0F];
    }
  }
}

// A name or IPv4 address that can stand in the URI's authority as is.
bool is_plain_host(const std::string& host) {
  if (host.empty()) return false;
  for (unsigned char c : host) {
    if (!std::isalnum(c) && c != '-' && c != '.' && c != '_') return false;
  }
  return true;
}

// An IPv6 literal (no zone id), written in brackets.
bool is_ipv6_literal(const std::string& host) {
  if (host.find(':') == std::string::npos) return false;
  for (unsigned char c : host) {
    if (!std::isxdigit(c) && c != ':' && c != '.') return false;
  }
  return true;
}

// The most characters the pairs can take: each value escaped or percent-encoded
// (`per_value_char` characters at most for each of its characters), plus `per_pair` for
// separators. Reserved up front, the output never reallocates, so no copy of the password
// is left behind in a freed, unwiped buffer (the caller wipes the result itself).
std::size_t worst_case_size(const target::LibpqKeywords& keywords, std::size_t per_value_char,
                            std::size_t per_pair) {
  std::size_t size = 0;
  for (const auto& [keyword, value] : keywords.pairs())
    size += keyword.size() + per_value_char * value.size() + per_pair;
  return size;
}

const std::string* non_empty(const std::string* value) { return value && !value->empty() ? value : nullptr; }

std::string uri_of(const target::LibpqKeywords& keywords) {
  // libpq drops an empty user, password, port or path ("postgresql://:@h:/" has none of
  // them): those go into the query, where an empty value is kept.
  const std::string* user = non_empty(keywords.find("user"));
  const std::string* password = user ? non_empty(keywords.find("password")) : nullptr;
  const std::string* host = keywords.find("host");
  const bool host_in_authority = host && (is_plain_host(*host) || is_ipv6_literal(*host));
  const std::string* port = host_in_authority ? non_empty(keywords.find("port")) : nullptr;
  const std::string* dbname = non_empty(keywords.find("dbname"));

  std::string out;
  // "postgresql://", then at most ":@[]/" around the authority and path, and '?'/'&' and
  // '=' per query pair.
  out.reserve(16 + 8 + worst_case_size(keywords, 3, 2));
  out += "postgresql://";
  if (user) {
    append_percent_encoded(out, *user);
    if (password) {
      out += ':';
      append_percent_encoded(out, *password);
    }
    out += '@';
  }
  if (host_in_authority) {
    const bool bracket = is_ipv6_literal(*host);
    if (bracket) out += '[';
    out += *host;
    if (bracket) out += ']';
    if (port) {
      out += ':';
      // Encoded like the rest (libpq decodes it): details not from the store may hold a
      // string port, and "1/x?host=evil" must not become another path and query.
      append_percent_encoded(out, *port);
    }
  }
  if (dbname) {
    out += '/';
    append_percent_encoded(out, *dbname);
  }
  // Everything the authority and path did not take goes into the query.
  char separator = '?';
  for (const auto& [keyword, value] : keywords.pairs()) {
    const bool taken = (keyword == "user" && user) || (keyword == "password" && password) ||
                       (keyword == "host" && host_in_authority) || (keyword == "port" && port) ||
                       (keyword == "dbname" && dbname);
    if (taken) continue;
    out += separator;
    separator = '&';
    out += keyword;
    out += '=';
    append_percent_encoded(out, value);
  }
  return out;
}

// The details read as connection type `type` (which throws for another type), formatted.
template <class Format>
std::string format(const Details& details, const std::string& type, Format&& formatted) {
  target::LibpqKeywords keywords;
  target::to_libpq_keywords(details, type, keywords);
  return formatted(keywords);
}

}  // namespace

std::string target::conninfo_of(const LibpqKeywords& keywords) {
  std::string out;
  out.reserve(worst_case_size(keywords, 2, 4));  // ' ', '=', two quotes
  for (const auto& [keyword, value] : keywords.pairs()) {
    if (!out.empty()) out += ' ';
    out += keyword;
    out += '=';
    store::append_conninfo_value(out, value);
  }
  return out;
}

// Bare details are POSTGRESQL's; a Connection is read as its own type.
std::string to_conninfo(const Details& details) { return format(details, "POSTGRESQL", target::conninfo_of); }
std::string to_conninfo(const Connection& c) { return format(c.details, c.type, target::conninfo_of); }
std::string to_uri(const Details& details) { return format(details, "POSTGRESQL", uri_of); }
std::string to_uri(const Connection& c) { return format(c.details, c.type, uri_of); }

}  // namespace datahub
