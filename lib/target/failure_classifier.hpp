// Reading libpq's connection error: which TestFailure it is, and a message safe to show.
#pragma once

#include "target/libpq_keywords.hpp"

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
// `needs_password`: PQconnectionNeedsPassword(). `sent`: what libpq was given; its
// password is scrubbed, and where the message quotes one of its values (a host or socket
// path, a user name) that text is read neither as a SQLSTATE nor as a reason, so a record
// cannot choose its failure's category.
ClassifiedFailure classify_failure(const std::string& raw, bool needs_password, const LibpqKeywords& sent);

// `message` with every occurrence of `secret` replaced by "********".
std::string scrub(std::string message, const std::string& secret);

}  // namespace datahub::target
