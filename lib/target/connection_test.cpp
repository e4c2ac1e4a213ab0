// test_connection: one real libpq session to a stored connection's target.
#include "model/text.hpp"
#include "target/failure_classifier.hpp"
#include "target/libpq_keywords.hpp"

#include <datahub/error.hpp>
#include <datahub/store.hpp>
#include <datahub/target.hpp>

#include <botan/mem_ops.h>
#include <libpq-fe.h>
#include <poll.h>

#include <cerrno>
#include <memory>

namespace datahub {
namespace {

using Clock = std::chrono::steady_clock;
constexpr const char* kFallbackApplicationName = "datahub-connection-test";
constexpr const char* kNoPasswordFile = "/dev/null/no-password-file";

void check_options(const TestOptions& options) {
  if (options.timeout < TestOptions::kMinTimeout || options.timeout > TestOptions::kMaxTimeout)
    throw InvalidArgument("timeout", "must be 100 ms to 1 hour");
}

// libpq's own connect_timeout is whole seconds and treats 1 as 2; our deadline is exact.
std::string libpq_timeout(std::chrono::milliseconds timeout) {
  const auto seconds = (timeout.count() + 999) / 1000;
  return std::to_string(seconds < 2 ? 2 : seconds);
}

// libpq writes server notices to stderr unless told otherwise; a library must not.
void ignore_notice(void*, const char*) {}

struct ConnCloser {
  void operator()(PGconn* conn) const noexcept { PQfinish(conn); }
};
using ConnPtr = std::unique_ptr<PGconn, ConnCloser>;

enum class Outcome { connected, failed, timed_out };

// Drives PQconnectPoll until it finishes or the deadline passes (the documented loop:
// wait for the socket in the direction libpq asks, then poll again).
Outcome drive(PGconn* conn, Clock::time_point deadline) {
  if (PQstatus(conn) == CONNECTION_BAD) return Outcome::failed;
  PostgresPollingStatusType state = PGRES_POLLING_WRITING;
  for (;;) {
    if (state == PGRES_POLLING_OK) return Outcome::connected;
    if (state == PGRES_POLLING_FAILED) return Outcome::failed;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return Outcome::timed_out;
    const int fd = PQsocket(conn);
    if (fd >= 0) {
      pollfd waiter{fd, static_cast<short>(state == PGRES_POLLING_READING ? POLLIN : POLLOUT), 0};
      const int ready = poll(&waiter, 1, static_cast<int>(left.count()) + 1);
      if (ready < 0 && errno == EINTR) continue;
      if (ready == 0) return Outcome::timed_out;
    }
    state = PQconnectPoll(conn);
  }
}

}  // namespace

const char* to_string(TestFailure failure) noexcept {
  switch (failure) {
    case TestFailure::none: return "none";
    case TestFailure::unreachable: return "unreachable";
    case TestFailure::authentication_failed: return "authentication_failed";
    case TestFailure::database_missing: return "database_missing";
    case TestFailure::tls: return "tls";
    case TestFailure::timeout: return "timeout";
    case TestFailure::other: return "other";
  }
  return "other";
}

TestResult test_connection(const Details& details, const std::string& type, const TestOptions& options) {
  check_options(options);
  target::LibpqKeywords keywords;
  keywords.reserve(details.size() + 4);  // no pair moves once added (see reserve)
  target::to_libpq_keywords(details, type, keywords);
  keywords.set("connect_timeout", libpq_timeout(options.timeout));  // the caller's timeout wins
  keywords.add("fallback_application_name", kFallbackApplicationName);
  // Only the record's own credentials go to the host it names: without these, a record
  // without a password would get the process's PGPASSWORD, or a password from its
  // ~/.pgpass or PGPASSFILE, sent to whatever server the record's author chose. An empty
  // password counts as given in a connection string (not in PQconnectStartParams, hence
  // the string), and a password file under /dev/null cannot exist.
  if (!keywords.find("password")) keywords.add("password", "");
  keywords.add("passfile", kNoPasswordFile);
  std::string conninfo = target::conninfo_of(keywords);

  TestResult result;
  const auto started = Clock::now();
  // A connection string is parsed as one: a database name in it stays a name.
  ConnPtr conn(PQconnectStart(conninfo.c_str()));
  Botan::secure_scrub_memory(conninfo.data(), conninfo.size());  // libpq keeps its own copy
  if (!conn) {
    result.failure = TestFailure::other;
    result.message = "libpq could not allocate a connection";
    return result;
  }
  // Set before the server answers so its errors carry their SQLSTATE ("FATAL:  28P01: ...").
  PQsetErrorVerbosity(conn.get(), PQERRORS_VERBOSE);
  PQsetNoticeProcessor(conn.get(), ignore_notice, nullptr);

  const Outcome outcome = drive(conn.get(), started + options.timeout);
  result.latency = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started);
  if (outcome == Outcome::connected) {
    result.ok = true;
    const char* version = PQparameterStatus(conn.get(), "server_version");
    result.server_version = model::printable(version ? version : "");  // the server's own text
    result.server_version_num = PQserverVersion(conn.get());
    return result;
  }
  if (outcome == Outcome::timed_out) {
    result.failure = TestFailure::timeout;
    result.message = "no answer within " + std::to_string(options.timeout.count()) + " ms";
    return result;
  }
  auto classified =
      target::classify_failure(PQerrorMessage(conn.get()), PQconnectionNeedsPassword(conn.get()) != 0, keywords);
  result.failure = classified.failure;
  result.sqlstate = std::move(classified.sqlstate);
  result.message = std::move(classified.message);
  return result;
}

TestResult test_connection(ConnectionStore& store, std::int64_t id, const TestOptions& options) {
  check_options(options);  // before any secret is revealed
  const Connection connection = store.get(id, Secrets::reveal);
  return test_connection(connection.details, connection.type, options);
}

}  // namespace datahub
