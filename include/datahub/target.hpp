// Using a stored connection: test that it works, or turn it into a libpq conninfo or URI.
//
//   datahub::TestResult r = datahub::test_connection(store, 42);
//   if (r.ok) std::cout << "PostgreSQL " << r.server_version << " in " << r.latency.count() << " us\n";
//   else      std::cout << datahub::to_string(r.failure) << ": " << r.message << "\n";
//
//   datahub::Connection c = store.get(42, datahub::Secrets::reveal);
//   std::string conninfo = datahub::to_conninfo(c);  // contains the password: handle with care
//
// Only the POSTGRESQL type is supported today; other types give InvalidArgument("type", ...).
// Every function here is thread-safe (they share no state; the store is thread-safe).
#pragma once

#include <datahub/connection.hpp>
#include <datahub/details.hpp>
#include <datahub/export.hpp>

#include <chrono>
#include <cstdint>
#include <string>

namespace datahub {

class ConnectionStore;

// Why a test failed. Stable names (to_string) for logs, JSON and the C ABI.
enum class TestFailure {
  none,                   // the test succeeded
  unreachable,            // no server answered: DNS, refused, no route, server shutting down
  authentication_failed,  // the server refused the user or password (SQLSTATE 28P01, 28000)
  database_missing,       // the server has no such database (SQLSTATE 3D000)
  tls,                    // TLS required but unavailable, or the handshake/certificate failed
  timeout,                // no answer within TestOptions::timeout
  other,                  // anything else (too many connections, bad option, ...)
};

// "none", "unreachable", "authentication_failed", "database_missing", "tls", "timeout", "other".
DATAHUB_API const char* to_string(TestFailure failure) noexcept;

struct TestOptions {
  // The whole attempt (every address of the host) must finish within this; 100 ms to 1 h.
  // Also passed to libpq as connect_timeout (rounded up to whole seconds, at least 2).
  std::chrono::milliseconds timeout{10000};

  static constexpr std::chrono::milliseconds kMinTimeout{100};
  static constexpr std::chrono::milliseconds kMaxTimeout{3600000};
};

// The outcome of one connection attempt. A failure of the *target* is reported here, not
// thrown. Maps one to one onto JSON (see to_json).
struct TestResult {
  bool ok = false;
  std::chrono::microseconds latency{0};  // from the start of the attempt to its end, ok or not
  std::string server_version;            // "15.18 (Debian 15.18-0+deb12u1)" when ok, else ""
                                         // (printable UTF-8, like message)
  int server_version_num = 0;            // 150018 when ok, else 0
  TestFailure failure = TestFailure::none;
  std::string sqlstate;  // the server's SQLSTATE for the failure, when it sent one
  // libpq's message on one line, with any occurrence of the password replaced by "********".
  // Valid UTF-8 without control characters (a target server chooses its bytes): a control
  // character reads '?', an invalid byte U+FFFD.
  std::string message;
};

// {"ok":false,"latency_ms":1.234,"server_version":null,"server_version_num":null,
//  "failure":"authentication_failed","sqlstate":"28P01","message":"..."}
// ("failure", "sqlstate" and "message" are null on success.)
DATAHUB_API std::string to_json(const TestResult& result);

// Opens one session to connection `id`'s target (its details revealed in memory only),
// then closes it. Blocks for at most about options.timeout.
// Sends the record's own credentials only: without a password (or with an empty one) the
// server gets no password, never the process's PGPASSWORD, PGPASSFILE or ~/.pgpass, since
// the record's author chose the host. Other fields the record leaves out come from libpq's
// environment (PGUSER, PGSSLMODE, ...). The values reach libpq quoted as to_conninfo writes
// them, so none can add or change another keyword.
// Throws what store.get(id, Secrets::reveal) throws (NotFound, Integrity, KeyUnavailable,
// Unavailable for the store's own database) and InvalidArgument for a bad timeout, a type
// other than POSTGRESQL, or a details field with no libpq keyword (a row another client
// wrote) or holding a NUL byte. Never throws because the target failed.
DATAHUB_API TestResult test_connection(ConnectionStore& store, std::int64_t id,
                                       const TestOptions& options = {});

// The same for details already in hand (a revealed record, or details not stored yet).
// They are not validated against the type's limits: a value libpq refuses, a port of 0
// say, is a failed result ("other"), not a throw. The InvalidArgument cases above hold.
// `type` is the connection type ("POSTGRESQL").
DATAHUB_API TestResult test_connection(const Details& details, const std::string& type,
                                       const TestOptions& options = {});

// A libpq keyword/value connection string for POSTGRESQL details:
//   host='db' port='5432' dbname='main' user='app' password='it''s' ...
// Every value is single-quoted with `\` and `'` backslash-escaped, so any value survives
// PQconninfoParse/PQconnectdb unchanged. Details fields map to libpq keywords (database ->
// dbname, username -> user); a field left out (a redacted password) is simply absent.
// Throws InvalidArgument("connection_details.<field>") for a field libpq has no keyword for,
// and InvalidArgument("type") for a record of another type. The result holds the password
// when the details do: treat it as a secret.
DATAHUB_API std::string to_conninfo(const Details& details);
DATAHUB_API std::string to_conninfo(const Connection& connection);

// The same as a URI: postgresql://user:password@host:port/dbname?sslmode=...
// User, password, port, database and query values are percent-encoded (everything but
// A-Z a-z 0-9 - . _ ~). A host that is not a plain name or IPv4 address goes into the
// query (?host=...): Unix socket directories, lists of hosts; IPv6 literals are bracketed.
// An empty user, password, port or database also goes into the query (libpq would drop
// it from the authority or path), so every value, empty ones included, parses back as is.
// Throws like to_conninfo.
DATAHUB_API std::string to_uri(const Details& details);
DATAHUB_API std::string to_uri(const Connection& connection);

}  // namespace datahub
