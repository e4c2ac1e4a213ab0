// Turns SOCI/libpq failures into datahub errors without leaking bound values.
#pragma once

#include <libpq-fe.h>

#include <string>

namespace datahub::store {

// Call inside a catch block: rethrows datahub::Error unchanged, maps soci errors to
// Database (with SQLSTATE) or Unavailable, anything else to Error(internal).
// `operation` says what was being done ("create", "migrate", ...).
[[noreturn]] void rethrow_as_datahub_error(const std::string& operation);

// The same for a failed libpq call on `conn` (`result` may be null). A statement's error
// (not a lost connection) ends with " at <row>" when `row` names the row it is about.
[[noreturn]] void throw_pq_error(const std::string& operation, PGconn* conn, const PGresult* result,
                                 const std::string& row = {});

// The line of a COPY into database_connections that `result`'s error is about (its
// CONTEXT "COPY database_connections, line N"), or 0 when it names none. Only the number
// is read: the rest of the CONTEXT can quote the row's values.
long long copy_error_line(const PGresult* result);
[[noreturn]] void throw_lost_connection(const std::string& operation, PGconn* conn);

}  // namespace datahub::store
