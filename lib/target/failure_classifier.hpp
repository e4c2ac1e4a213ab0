// Reading libpq's connection error: which TestFailure it is, and a message safe to show.
#pragma once

#include <datahub/target.hpp>

#include <string>

namespace datahub::target {

struct ClassifiedFailure {
  TestFailure failure = TestFailure::other;
  std::string sqlstate;
  std::string message;  // one line, SQLSTATE codes and LOCATION lines removed, secret scrubbed,
                        // printable UTF-8 (control characters '?', invalid bytes U+FFFD)
};

// `raw` is PQerrorMessage() of a connection whose error verbosity was PQERRORS_VERBOSE
// before the server answered, so server errors read "FATAL:  28P01: ...".
// `needs_password`: PQconnectionNeedsPassword(). `secret`: the password sent, or "".
ClassifiedFailure classify_failure(const std::string& raw, bool needs_password, const std::string& secret);

// `message` with every occurrence of `secret` replaced by "********".
std::string scrub(std::string message, const std::string& secret);

}  // namespace datahub::target
