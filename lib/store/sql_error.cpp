#include "store/sql_error.hpp"

#include <datahub/error.hpp>

#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <exception>
#include <new>
#include <string_view>

namespace datahub::store {
namespace {

// The first line of the server's message, without "ERROR:" and without the DETAIL,
// HINT and CONTEXT lines, which can quote row values.
std::string primary_message(const std::string& full) {
  std::string line = full.substr(0, full.find('\n'));
  for (const char* prefix : {"ERROR:  ", "FATAL:  ", "ERROR: ", "FATAL: "}) {
    if (line.rfind(prefix, 0) == 0) {
      line.erase(0, std::char_traits<char>::length(prefix));
      break;
    }
  }
  return line;
}

// The server's primary message in a SOCI error: SOCI puts a sentence of its own before
// libpq's text ("Cannot execute query. Fatal error. ERROR:  <primary>", "Cannot commit
// transaction. ..."), so the primary message is what follows the first line's first severity
// tag. A line without one is read as primary_message() does.
std::string statement_message(const std::string& full) {
  const std::string line = full.substr(0, full.find('\n'));
  std::size_t at = std::string::npos, length = 0;
  for (const char* severity : {"ERROR:  ", "FATAL:  ", "PANIC:  "}) {
    const std::size_t found = line.find(severity);
    if (found < at) {
      at = found;
      length = std::char_traits<char>::length(severity);
    }
  }
  return at == std::string::npos ? primary_message(full) : line.substr(at + length);
}

bool is_connection_state(const std::string& sqlstate) {
  // 08: connection exception; 57P01-57P03: server shutting down or not accepting.
  return sqlstate.rfind("08", 0) == 0 || sqlstate == "57P01" || sqlstate == "57P02" ||
         sqlstate == "57P03";
}

// When the connection drops mid-statement libpq has no result, hence no SQLSTATE, and
// SOCI files the error as "unknown"; libpq's own wording is stable and tells.
constexpr const char* kLostConnectionSigns[] = {
    "server closed the connection", "no connection to the server", "could not receive data",
    "could not send data",          "connection refused",          "Connection refused",
    "could not connect",            "Cannot establish connection", "terminating connection",
    "connection to server"};

bool is_lost_connection(const std::string& message) {
  for (const char* sign : kLostConnectionSigns) {
    if (message.find(sign) != std::string::npos) return true;
  }
  return false;
}

constexpr const char* kFailedConnect = "Cannot establish connection";  // SOCI's first line
constexpr const char* kNoPassword = "fe_sendauth: no password supplied";  // libpq's own

// A connection the server answered and refused: a wrong or missing password, an unknown
// role or database, a startup option it rejects (the conninfo's options='-c ...'). Retrying
// cannot help, so it is a Database error, not Unavailable.
// libpq gives no SQLSTATE for a failed connection; the server's wording (English, its
// default lc_messages) tells which, or libpq's when the server asked for a password the
// conninfo does not hold. Anything else, a server starting up or full included, stays
// Unavailable.
// Only a failed connect (SOCI's "Cannot establish connection") is looked at: its message
// is libpq's, never a statement's DETAIL or CONTEXT.
const char* refused_login_sqlstate(const std::string& message) {
  if (message.rfind(kFailedConnect, 0) != 0) return nullptr;
  if (message.find(kNoPassword) != std::string::npos) return "28P01";
  if (message.find("FATAL:") == std::string::npos) return nullptr;
  if (message.find("authentication failed") != std::string::npos) return "28P01";
  if (message.find("no pg_hba.conf entry") != std::string::npos) return "28000";
  if (message.find("does not exist") != std::string::npos) {
    if (message.find("FATAL:  database \"") != std::string::npos) return "3D000";
    if (message.find("FATAL:  role \"") != std::string::npos) return "28000";
  }
  if (message.find("FATAL:  invalid value for parameter \"") != std::string::npos) return "22023";
  if (message.find("FATAL:  unrecognized configuration parameter \"") != std::string::npos) return "42704";
  return nullptr;
}

// A connection string libpq itself rejects at connect time (a bad sslmode, a port that is
// not a number, ...): a mistake in the configuration, not an outage, so no retry can help.
// Returns libpq's reason ("invalid sslmode value: \"bogus\""), which names the option and
// quotes its value; libpq checks no secret option's value this way. Only a failed connect
// is looked at, as above.
std::string invalid_option_reason(const std::string& message) {
  if (message.rfind(kFailedConnect, 0) != 0) return {};
  for (const char* sign : {"invalid integer value \"", "invalid port number: \"", " value: \"", "could not match "}) {
    const std::size_t found = message.find(sign);
    if (found == std::string::npos) continue;
    const std::size_t line_start = message.rfind('\n', found) + 1;  // npos + 1 == 0
    std::size_t start = message.find("invalid ", line_start);
    if (start == std::string::npos || start > found) start = message.find("could not match ", line_start);
    if (start == std::string::npos || start > found) continue;
    return message.substr(start, message.find('\n', found) - start);
  }
  return {};
}

// The reason of a refused login: the server's, from "...failed: FATAL:  <reason>", or libpq's.
std::string refusal_reason(const std::string& message) {
  if (message.find(kNoPassword) != std::string::npos) return "it asks for a password, and none was given";
  const std::size_t at = message.find("FATAL:");
  return primary_message(message.substr(at == std::string::npos ? 0 : at));
}

// Why a connect failed: libpq's first line after SOCI's own ("connection to server at ...
// failed: Connection refused"). Why a statement lost its connection: the server's message
// when it sent one, else libpq's words, without the sentences SOCI puts first ("Cannot
// execute query. Fatal error. Connection failed. server closed the connection ...").
std::string failure_reason(const std::string& message) {
  if (message.rfind(kFailedConnect, 0) == 0) {
    const std::size_t next = message.find('\n');
    if (next != std::string::npos && next + 1 < message.size()) return primary_message(message.substr(next + 1));
  }
  const std::string line = statement_message(message);
  std::size_t from = std::string::npos;
  for (const char* sign : kLostConnectionSigns) from = std::min(from, line.find(sign));
  return from == std::string::npos ? line : line.substr(from);
}

}  // namespace

void throw_lost_connection(const std::string& operation, PGconn* conn) {
  const std::string detail = conn ? primary_message(PQerrorMessage(conn)) : "no connection";
  throw Unavailable(operation + ": the database is unavailable (" + detail + ")");
}

void throw_pq_error(const std::string& operation, PGconn* conn, const PGresult* result, const std::string& row) {
  const char* state = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  const std::string sqlstate = state ? state : "";
  if (!conn || PQstatus(conn) != CONNECTION_OK || is_connection_state(sqlstate) || !result)
    throw_lost_connection(operation, conn);
  // The primary message only: DETAIL and CONTEXT can quote row values.
  const char* primary = PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY);
  throw Database(operation + ": " + (primary ? primary : "statement failed") + " (SQLSTATE " + sqlstate + ")" +
                     (row.empty() ? "" : " at " + row),
                 sqlstate);
}

long long copy_error_line(const PGresult* result) {
  const char* context = result ? PQresultErrorField(result, PG_DIAG_CONTEXT) : nullptr;
  if (!context) return 0;
  // After a trigger's own lines ("PL/pgSQL function f() line 3 at RAISE"), when one failed.
  static constexpr std::string_view kSign = "COPY database_connections, line ";
  const std::size_t at = std::string_view(context).find(kSign);
  if (at == std::string_view::npos) return 0;
  const char* digits = context + at + kSign.size();
  return std::isdigit(static_cast<unsigned char>(*digits)) ? std::strtoll(digits, nullptr, 10) : 0;
}

void rethrow_as_datahub_error(const std::string& operation) {
  try {
    throw;
  } catch (const Error&) {
    throw;
  } catch (const soci::soci_error& e) {
    // SOCI's what() appends bound values; get_error_message() does not.
    const std::string& message = e.get_error_message();
    const auto* pg = dynamic_cast<const soci::postgresql_soci_error*>(&e);
    const std::string state = pg ? pg->sqlstate() : "";
    if (const char* refused = refused_login_sqlstate(message))
      throw Database(operation + ": the server refused the connection (" + refusal_reason(message) + ")", refused);
    if (const std::string reason = invalid_option_reason(message); !reason.empty())
      throw InvalidArgument("database", reason);
    if (e.get_error_category() == soci::soci_error::connection_error || is_connection_state(state) ||
        is_lost_connection(message))
      throw Unavailable(operation + ": the database is unavailable (" + failure_reason(message) + ")");
    throw Database(operation + ": " + statement_message(message) + (pg ? " (SQLSTATE " + state + ")" : ""), state);
  } catch (const std::bad_alloc&) {
    throw Error(ErrorCode::internal, operation + ": out of memory");
  } catch (const std::exception& e) {
    throw Error(ErrorCode::internal, operation + ": unexpected error");
  }
}

}  // namespace datahub::store
