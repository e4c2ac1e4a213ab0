// Errors: every failure the library reports is a datahub::Error with a stable code.
//
// Messages name the field or the operation that failed and never contain a secret
// (a password or other secret detail, key material, a passphrase), so they are safe to
// log. They may name ids, key ids and the offending value of a non-secret option.
#pragma once

#include <datahub/export.hpp>

#include <stdexcept>
#include <string>

namespace datahub {

// Stable codes; the numbers are those of the C ABI's dhc_code.
enum class ErrorCode : int {
  ok = 0,
  invalid_argument = 1,  // bad input; the table is unchanged
  not_found = 2,         // no row with that id
  conflict = 3,          // the row changed since the caller read it (restore: the id is taken)
  integrity = 4,         // ciphertext tampered with, swapped between rows, or malformed; also
                         // a key id bound to other key material than it was sealed under
  key_unavailable = 5,   // the key provider does not have (or cannot use) the key
  database = 6,          // the server rejected a statement; see Database::sqlstate()
  unavailable = 7,       // the server cannot be reached, or refused the session (see ConnectionStore)
  internal = 8,          // a bug in this library
};

// "invalid_argument", "not_found", ...
DATAHUB_API const char* to_string(ErrorCode code) noexcept;

class DATAHUB_API Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& message);
  ErrorCode code() const noexcept { return code_; }

 private:
  ErrorCode code_;
};

class DATAHUB_API InvalidArgument : public Error {
 public:
  // The message reads "<field>: <reason>".
  InvalidArgument(const std::string& field, const std::string& reason);
  const std::string& field() const noexcept { return field_; }

 private:
  std::string field_;
};

class DATAHUB_API NotFound : public Error {
 public:
  explicit NotFound(const std::string& message);
};

class DATAHUB_API Conflict : public Error {
 public:
  explicit Conflict(const std::string& message);
};

class DATAHUB_API Integrity : public Error {
 public:
  explicit Integrity(const std::string& message);
};

class DATAHUB_API KeyUnavailable : public Error {
 public:
  explicit KeyUnavailable(const std::string& message);
};

class DATAHUB_API Database : public Error {
 public:
  Database(const std::string& message, const std::string& sqlstate);
  // The five-character SQLSTATE, or "" when the server gave none.
  const std::string& sqlstate() const noexcept { return sqlstate_; }

 private:
  std::string sqlstate_;
};

class DATAHUB_API Unavailable : public Error {
 public:
  explicit Unavailable(const std::string& message);
};

}  // namespace datahub
