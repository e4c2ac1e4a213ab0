// dhconn's exit codes and the one-line error report.
#pragma once

#include <datahub/error.hpp>

#include <stdexcept>
#include <string>

namespace dhconn {

enum Exit : int {
  kOk = 0,
  kOther = 1,        // anything else; also `test` when the target refused
  kUsage = 2,        // bad arguments or invalid input
  kNotFound = 3,
  kConflict = 4,     // changed since read (update), id taken (import)
  kKeyProblem = 5,   // key missing or wrong, ciphertext tampered, wrong passphrase
  kUnavailable = 6,  // the store's database cannot be reached
};

inline constexpr const char* kExitCodesHelp =
    "Exit codes: 0 ok, 1 other error (or the tested target failed), 2 usage or invalid input,\n"
    "3 not found, 4 conflict, 5 key or integrity problem, 6 database unavailable.\n"
    "Environment: DATAHUB_DATABASE (libpq conninfo of the store), DATAHUB_CONNECTIONS_KEYS\n"
    "(\"kid:base64,...\", first is primary), DATAHUB_ACTOR (audit name).";

// A mistake in how dhconn was called, found after parsing (exit 2).
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// An error with a chosen exit code and a ready message.
class ExitError : public std::runtime_error {
 public:
  ExitError(int code, const std::string& message) : std::runtime_error(message), code_(code) {}
  int code() const noexcept { return code_; }

 private:
  int code_;
};

int exit_code_for(datahub::ErrorCode code) noexcept;

// `text` for a terminal: stored values and file contents are anyone's, and a control
// character (an escape sequence, a newline forging a line) becomes '?'.
std::string printable(const std::string& text);

// Prints "dhconn: <message>" on stderr (one line) and returns the exit code.
int report(int code, const std::string& message);

// Flushes stdout and throws ExitError(kOther) if anything written to it was lost (a full
// disk, a closed descriptor): an export must not look written when it was not.
void check_stdout();

}  // namespace dhconn
