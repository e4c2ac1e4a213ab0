#include "target/failure_classifier.hpp"

#include "model/text.hpp"

#include <algorithm>
#include <cctype>
#include <initializer_list>
#include <utility>
#include <vector>

namespace datahub::target {
namespace {

bool contains_any(const std::string& text, std::initializer_list<const char*> needles) {
  for (const char* needle : needles) {
    if (text.find(needle) != std::string::npos) return true;
  }
  return false;
}

bool is_sqlstate(const std::string& text, std::size_t at) {
  if (at + 6 > text.size() || text[at + 5] != ':') return false;
  for (std::size_t i = at; i < at + 5; ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (!std::isdigit(c) && !std::isupper(c)) return false;
  }
  return true;
}

using Ranges = std::vector<std::pair<std::size_t, std::size_t>>;  // [begin, end)

// Where `text` quotes a value libpq was given, or one entry of a list (libpq splits
// "h1,h2" and names each host alone): libpq and the server quote every value they echo
// (host name "h", on socket "/dir/.s.PGSQL.5432", user "u"). Text in there is the
// record's, never libpq's or the server's own words.
Ranges quoted_values(const std::string& text, const LibpqKeywords& sent) {
  Ranges out;
  const auto mark = [&](const std::string& value) {
    if (value.empty()) return;
    for (std::size_t at = text.find(value); at != std::string::npos; at = text.find(value, at + 1)) {
      const std::size_t end = at + value.size();
      if (at > 0 && text[at - 1] == '"' && end < text.size() && (text[end] == '"' || text[end] == '/'))
        out.emplace_back(at, end);
    }
  };
  for (const auto& [keyword, value] : sent.pairs()) {
    mark(value);
    if (keyword != "host" && keyword != "port") continue;  // the lists libpq splits
    for (std::size_t start = 0;;) {
      const std::size_t comma = value.find(',', start);
      if (comma == std::string::npos && start == 0) break;  // not a list
      mark(value.substr(start, comma - start));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  return out;
}

bool overlaps(const Ranges& ranges, std::size_t begin, std::size_t end) {
  for (const auto& [b, e] : ranges) {
    if (b < end && begin < e) return true;
  }
  return false;
}

// `text` without the ranges.
std::string outside(const std::string& text, const Ranges& ranges) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (!overlaps(ranges, i, i + 1)) out += text[i];
  }
  return out;
}

// Takes every "<SEVERITY>:  XXXXX: " code out of the message, but those in a quoted value
// (the record's text), and returns the first (a FATAL's before an ERROR's or a PANIC's).
std::string extract_sqlstate(std::string& message, const LibpqKeywords& sent) {
  const Ranges quoted = quoted_values(message, sent);
  std::string found;
  std::vector<std::size_t> codes;
  for (const char* severity : {"FATAL:  ", "ERROR:  ", "PANIC:  "}) {
    const std::size_t length = std::char_traits<char>::length(severity);
    for (std::size_t pos = message.find(severity); pos != std::string::npos; pos = message.find(severity, pos + 1)) {
      const std::size_t code_at = pos + length;
      if (!is_sqlstate(message, code_at) || overlaps(quoted, pos, code_at + 6)) continue;
      if (found.empty()) found = message.substr(code_at, 5);
      codes.push_back(code_at);
    }
  }
  std::sort(codes.rbegin(), codes.rend());  // from the end, so the positions stay right
  for (const std::size_t code_at : codes) message.erase(code_at, 7);  // "XXXXX: "
  return found;
}

// One line: LOCATION lines (source positions) dropped, whitespace runs collapsed.
std::string one_line(const std::string& message) {
  std::string out;
  std::size_t start = 0;
  while (start < message.size()) {
    std::size_t end = message.find('\n', start);
    if (end == std::string::npos) end = message.size();
    std::string line = message.substr(start, end - start);
    start = end + 1;
    if (line.rfind("LOCATION:", 0) == 0) continue;
    for (char c : line) {
      const bool space = std::isspace(static_cast<unsigned char>(c)) != 0;
      if (space && (out.empty() || out.back() == ' ')) continue;
      out += space ? ' ' : c;
    }
    if (!out.empty() && out.back() != ' ') out += ' ';
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

TestFailure from_sqlstate(const std::string& sqlstate) {
  if (sqlstate == "28P01" || sqlstate == "28000") return TestFailure::authentication_failed;
  if (sqlstate == "3D000") return TestFailure::database_missing;
  // Starting up, shutting down, in recovery without hot standby: nobody to talk to yet.
  if (sqlstate == "57P01" || sqlstate == "57P02" || sqlstate == "57P03") return TestFailure::unreachable;
  return TestFailure::other;
}

TestFailure from_message(const std::string& message, bool needs_password) {
  if (needs_password) return TestFailure::authentication_failed;
  if (contains_any(message, {"timeout expired"})) return TestFailure::timeout;
  if (contains_any(message, {"SSL", "TLS", "certificate", "GSSAPI encryption"})) return TestFailure::tls;
  if (contains_any(message, {"Connection refused", "could not translate host name", "No route to host",
                             "Network is unreachable", "Name or service not known",
                             "Temporary failure in name resolution", "No such file or directory",
                             "Is the server running", "could not connect", "Connection timed out"}))
    return TestFailure::unreachable;
  return TestFailure::other;
}

}  // namespace

std::string scrub(std::string message, const std::string& secret) {
  if (secret.empty()) return message;
  static const std::string mask = "********";
  std::size_t pos = 0;
  while ((pos = message.find(secret, pos)) != std::string::npos) {
    message.replace(pos, secret.size(), mask);
    pos += mask.size();
  }
  return message;
}

ClassifiedFailure classify_failure(const std::string& raw, bool needs_password, const LibpqKeywords& sent) {
  ClassifiedFailure out;
  const std::string* password = sent.find("password");
  static const std::string none;
  const std::string& secret = password ? *password : none;
  std::string unscrubbed = raw;
  out.sqlstate = extract_sqlstate(unscrubbed, sent);  // from libpq's text: a password cannot mask it
  // Scrub first: taking a "FATAL:  XXXXX: " out of an echoed password would leave the rest
  // of it unmatched. Scrub again after reformatting: a password may hold spaces or newlines.
  const std::string scrubbed = scrub(raw, secret);
  std::string message = scrubbed;
  extract_sqlstate(message, sent);
  out.message = model::printable(scrub(one_line(message), secret));  // scrubbed before anything is replaced
  // Read the words of libpq and the server only: a host named "SSL.invalid" is no TLS failure.
  out.failure = out.sqlstate.empty() ? from_message(outside(scrubbed, quoted_values(scrubbed, sent)), needs_password)
                                     : from_sqlstate(out.sqlstate);
  if (out.failure == TestFailure::other && needs_password) out.failure = TestFailure::authentication_failed;
  return out;
}

}  // namespace datahub::target
