// Turns SOCI/libpq failures into datahub errors without leaking bound values.
#pragma once

#include <libpq-fe.h>

#include <string>

namespace datahub::store {

// Call inside a catch block: rethrows datahub::Error unchanged, maps soci errors to
// Database (with SQLSTATE) or Unavailable, anything else to Error(internal).
// `operation` says what was being done ("create", "migrate", ...).
[[noreturn]] void rethrow_as_datahub_error(const std::string& operation);

// The same for a failed libpq call on `conn` (`result` may be null).
[[noreturn]] void throw_pq_error(const std::string& operation, PGconn* conn, const PGresult* result);
[[noreturn]] void throw_lost_connection(const std::string& operation, PGconn* conn);

}  // namespace datahub::store
