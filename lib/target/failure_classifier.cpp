#include "target/failure_classifier.hpp"

#include "model/text.hpp"

#include <cctype>
#include <initializer_list>

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

// Whether message[begin, end) lies inside an occurrence of one of the values.
bool inside_a_value(const std::string& message, std::size_t begin, std::size_t end, const LibpqKeywords& sent) {
  for (const auto& [keyword, value] : sent.pairs()) {
    if (value.size() < end - begin) continue;
    for (std::size_t at = message.find(value, end - value.size());
         at != std::string::npos && at <= begin; at = message.find(value, at + 1)) {
      if (at + value.size() >= end) return true;
    }
  }
  return false;
}

// Takes the first "<SEVERITY>:  XXXXX: " code out of the message and returns it. Codes
// inside a value the record wrote are left alone.
std::string extract_sqlstate(std::string& message, const LibpqKeywords& sent) {
  std::string found;
  for (const char* severity : {"FATAL:  ", "ERROR:  ", "PANIC:  "}) {
    std::size_t pos = 0;
    const std::size_t length = std::char_traits<char>::length(severity);
    while ((pos = message.find(severity, pos)) != std::string::npos) {
      const std::size_t code_at = pos + length;
      if (is_sqlstate(message, code_at) && !inside_a_value(message, pos, code_at + 6, sent)) {
        if (found.empty()) found = message.substr(code_at, 5);
        message.erase(code_at, 7);  // "XXXXX: "
      }
      pos = code_at;
    }
  }
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
  std::string message = scrub(raw, secret);
  extract_sqlstate(message, sent);
  out.message = model::printable(scrub(one_line(message), secret));  // scrubbed before anything is replaced
  out.failure = out.sqlstate.empty() ? from_message(out.message, needs_password) : from_sqlstate(out.sqlstate);
  if (out.failure == TestFailure::other && needs_password) out.failure = TestFailure::authentication_failed;
  return out;
}

}  // namespace datahub::target
