// Statements through the pooled session's own libpq connection, prepared once per
// session and reused: SOCI 4.0.3 sends one-time queries with PQexecParams, which parses
// and plans on every call, and its prepared statements cannot outlive a reconnect.
#pragma once

#include "store/session_pool.hpp"

#include <libpq-fe.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace datahub::store {

// Positional text parameters; add() returns the placeholder to write into the SQL.
class Params {
 public:
  std::string add(std::string value);
  std::string add(long long value) { return add(std::to_string(value)); }
  // SQL NULL when there is no value: one statement text, so one prepared statement, for both.
  std::string add_nullable(const std::optional<std::string>& value);
  // The values as libpq takes them (nullptr for NULL), valid while this object is.
  std::vector<const char*> pointers() const;

 private:
  std::vector<std::optional<std::string>> values_;
};

struct ResultDeleter {
  void operator()(PGresult* r) const noexcept { PQclear(r); }
};
using Result = std::unique_ptr<PGresult, ResultDeleter>;

// Runs `sql` as a prepared statement on the leased session (preparing it the first time
// this connection sees it). Throws Database or Unavailable; `operation` names the call.
Result exec(const SessionPool::Lease& lease, const std::string& sql, const Params& params,
            const std::string& operation);

// The same, planned afresh for these values: for searches whose best plan depends on
// them (a rare tag wants the GIN index, a common one the primary key).
Result exec_unprepared(const SessionPool::Lease& lease, const std::string& sql, const Params& params,
                       const std::string& operation);

// A COPY ... FROM STDIN (text format) on the leased session, streamed: the server stores
// rows while the caller prepares the next ones. Rows are written with append_copy_field,
// tab-separated, each ending in a newline. Nothing else may run on the session until
// finish(); a CopyIn dropped unfinished aborts the COPY (and so its transaction).
class CopyIn {
 public:
  // `row_name` names the row at a line of the COPY (1-based) in the error of a row the
  // server rejects ("... (SQLSTATE 23505) at connections[7]"); without it, no row is named.
  using RowName = std::function<std::string(long long line)>;
  CopyIn(const SessionPool::Lease& lease, const std::string& copy_sql, std::string operation,
         RowName row_name = {});
  ~CopyIn();
  CopyIn(const CopyIn&) = delete;
  CopyIn& operator=(const CopyIn&) = delete;

  // Throws Unavailable when the connection is gone. A rejected row is reported by finish().
  void send(const std::string& rows);
  // Ends the COPY and waits for the server's verdict; throws Database or Unavailable.
  // Returns the rows the server stored: fewer than were sent when a BEFORE INSERT trigger
  // skipped some (returned NULL).
  long long finish();

 private:
  [[noreturn]] void fail();
  [[noreturn]] void throw_server_error(const PGresult* result);

  PGconn* conn_;
  std::string operation_;
  RowName row_name_;
  bool open_ = true;
};

// Appends one field in COPY's text format: backslash, tab, newline and carriage return
// escaped, so no value can end a field or a row early. (NULL is written as \N by the caller.)
void append_copy_field(std::string& out, std::string_view value);

// Appends one value in libpq's keyword/value conninfo syntax: single-quoted, with \ and '
// escaped by a backslash, so any value (empty, spaces, quotes) parses back unchanged.
void append_conninfo_value(std::string& out, std::string_view value);

// Text of a result cell; "" for NULL.
inline std::string text(const PGresult* r, int row, int column) {
  return std::string(PQgetvalue(r, row, column), static_cast<std::size_t>(PQgetlength(r, row, column)));
}
inline long long integer(const PGresult* r, int row, int column) {
  return std::stoll(PQgetvalue(r, row, column));
}

}  // namespace datahub::store
