#include "store/session_pool.hpp"

#include "store/pq.hpp"
#include "store/sql_error.hpp"

#include <datahub/error.hpp>

#include <libpq-fe.h>
#include <poll.h>
#include <soci/postgresql/soci-postgresql.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>

namespace datahub::store {
namespace {

PGconn* connection_of(soci::session& session) {
  auto* backend = static_cast<soci::postgresql_session_backend*>(session.get_backend());
  return backend ? backend->conn_ : nullptr;
}

// Whether an idle connection is still usable, without a round trip: a server that went
// away has sent its goodbye (or EOF), which makes the socket readable. A terminated backend
// sends a FATAL message and then closes. libpq hands a message that arrives while idle to
// the notice receiver (see below), which marks the session doomed, so the message alone
// is enough, whether or not the EOF behind it has arrived yet. The socket is read until
// it has nothing more. (Bounded: an idle session is sent little, but a flood must not keep
// a lease here.)
bool still_connected(PGconn* conn, const bool& doomed) {
  if (!conn || PQstatus(conn) != CONNECTION_OK) return false;
  pollfd fd{PQsocket(conn), POLLIN, 0};
  if (fd.fd < 0) return false;
  for (int reads = 0; reads < 16 && ::poll(&fd, 1, 0) > 0; ++reads) {
    if (PQconsumeInput(conn) == 0 || PQstatus(conn) != CONNECTION_OK) return false;
    PQisBusy(conn);  // parses what was read: a goodbye goes to the notice receiver
  }
  return PQstatus(conn) == CONNECTION_OK && !doomed;
}

// Ends the transaction block a session was given back in; true when it is idle after.
bool roll_back(PGconn* conn) {
  PGresult* result = PQexec(conn, "ROLLBACK");
  const bool rolled_back = PQresultStatus(result) == PGRES_COMMAND_OK;
  PQclear(result);
  return rolled_back && PQtransactionStatus(conn) == PQTRANS_IDLE;
}

// The session this thread gave back last, as a hint followed only when `pool` is the
// pool asking and that session is free. Pools are told apart by a serial number, not by
// address: a new pool may reuse a destroyed one's.
struct LastSession {
  std::uint64_t pool = 0;
  std::size_t position = 0;
};
thread_local LastSession last_session;
std::atomic<std::uint64_t> pool_serials{0};

// Receives the server's notices, which libpq would print to stderr (a library must not
// write there), and the server's goodbye: a FATAL or PANIC message sent while the session
// is idle reaches here too, and marks the session (`doomed`) for reopening.
void on_notice(void* doomed, const PGresult* notice) {
  const char* severity = PQresultErrorField(notice, PG_DIAG_SEVERITY_NONLOCALIZED);
  if (severity && (std::strcmp(severity, "FATAL") == 0 || std::strcmp(severity, "PANIC") == 0))
    *static_cast<bool*>(doomed) = true;
}

void receive_notices(soci::session& session, bool& doomed) {
  doomed = false;
  if (PGconn* conn = connection_of(session)) PQsetNoticeReceiver(conn, on_notice, &doomed);
}
}  // namespace

std::string conninfo_with_timeout(const std::string& conninfo, std::chrono::seconds timeout) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &error);
  if (!options) {
    // libpq's message may quote the conninfo, and with it a password: do not pass it on.
    PQfreemem(error);
    throw InvalidArgument("database", "is not a valid libpq connection string");
  }
  // Rebuilt from libpq's own parse as keyword='value' pairs: a URI cannot take a parameter
  // by appending text (a '?' may sit in its password, or end it already).
  bool has_timeout = false;
  std::string rebuilt;
  for (PQconninfoOption* o = options; o->keyword; ++o) {
    if (!o->val) continue;
    const std::string keyword = o->keyword;
    if (keyword == "connect_timeout" && *o->val) has_timeout = true;
    rebuilt += keyword + "=";
    append_conninfo_value(rebuilt, o->val);
    rebuilt += ' ';
  }
  PQconninfoFree(options);
  if (has_timeout) return conninfo;
  return rebuilt + "connect_timeout=" + std::to_string(timeout.count());
}

SessionPool::SessionPool(const std::string& conninfo, std::size_t size,
                         std::chrono::seconds connect_timeout, std::chrono::seconds acquire_timeout,
                         Log log)
    : serial_(++pool_serials), size_(size), acquire_timeout_(acquire_timeout), log_(std::move(log)) {
  if (size < 1 || size > 64) throw InvalidArgument("pool_size", "must be 1 to 64");
  const std::string full = conninfo_with_timeout(conninfo, connect_timeout);
  prepared_.resize(size);
  doomed_ = std::make_unique<bool[]>(size);  // fixed addresses: libpq keeps a pointer to each
  in_use_.assign(size, false);
  try {
    for (std::size_t i = 0; i < size; ++i) {
      sessions_.push_back(std::make_unique<soci::session>(soci::postgresql, full));
      receive_notices(*sessions_.back(), doomed_[i]);
    }
  } catch (...) {
    rethrow_as_datahub_error("open");
  }
}

SessionPool::~SessionPool() = default;

SessionPool::Lease SessionPool::lease() {
  std::size_t position = 0;
  {
    std::unique_lock<std::mutex> lock(mutex_);
    // First come, first served: a call that finds others waiting queues behind them, so a
    // thread that gives a session back and leases again at once cannot starve them.
    if (waiting_.empty() && take_free(position)) {
      // taken without waiting
    } else {
      const std::uint64_t ticket = next_ticket_++;
      waiting_.push_back(ticket);
      const auto deadline = std::chrono::steady_clock::now() + acquire_timeout_;
      const bool taken =
          freed_.wait_until(lock, deadline, [&] { return waiting_.front() == ticket && take_free(position); });
      waiting_.erase(std::find(waiting_.begin(), waiting_.end(), ticket));
      freed_.notify_all();  // the next in line may be able to take one now
      if (!taken)
        throw Unavailable("no database session became free within " + std::to_string(acquire_timeout_.count()) +
                          " s");
    }
  }
  Lease lease(*this, position);  // given back on every path out of here
  ensure_connected(position);
  return lease;
}

bool SessionPool::take_free(std::size_t& position) {
  const LastSession hint = last_session;
  if (hint.pool == serial_ && hint.position < size_ && !in_use_[hint.position]) {
    position = hint.position;
  } else {
    std::size_t i = 0;
    while (i < size_ && in_use_[i]) ++i;
    if (i == size_) return false;
    position = i;
  }
  in_use_[position] = true;
  return true;
}

void SessionPool::give_back(std::size_t position) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    in_use_[position] = false;
  }
  last_session = {serial_, position};
  freed_.notify_all();  // waiters check in turn whether they are first in line
}

void SessionPool::ensure_connected(std::size_t position) {
  soci::session& session = *sessions_[position];
  PGconn* conn = connection_of(session);
  // A session given back inside a transaction (a path that forgot to end one, a rollback
  // that failed) would run the next caller's statements in it: the block is rolled back. A
  // connection still inside a statement or a COPY cannot be trusted and is reopened. Each
  // is a defect of the caller's path, so it is logged.
  const char* why = " lost its connection; reconnecting";
  if (still_connected(conn, doomed_[position])) {
    const PGTransactionStatusType state = PQtransactionStatus(conn);
    if (state == PQTRANS_IDLE) return;  // the usual case: nothing built, nothing logged
    if (state == PQTRANS_INTRANS || state == PQTRANS_INERROR) {
      log_(LogLevel::warning,
           "database session " + std::to_string(position) + " was given back inside a transaction; rolling it back");
      if (roll_back(conn)) return;
      why = " could not roll back; reconnecting";
    } else {
      why = " was given back inside a statement; reconnecting";
    }
  }
  log_(LogLevel::warning, "database session " + std::to_string(position) + why);
  try {
    // SOCI's reconnect() reopens with the original parameters; if it throws, the
    // session has no backend, and the next lease of it tries again.
    prepared_[position].clear();  // they died with the old connection
    session.reconnect();
    receive_notices(session, doomed_[position]);
  } catch (...) {
    log_(LogLevel::error, "database session " + std::to_string(position) + " could not reconnect");
    rethrow_as_datahub_error("reconnect");
  }
  log_(LogLevel::info, "database session " + std::to_string(position) + " reconnected");
}

SessionPool::Lease::~Lease() {
  if (pool_) pool_->give_back(position_);
}

soci::session& SessionPool::Lease::session() const { return *pool_->sessions_[position_]; }

PGconn* SessionPool::Lease::connection() const { return connection_of(session()); }

std::unordered_map<std::string, std::string>& SessionPool::Lease::prepared_statements() const {
  return pool_->prepared_[position_];
}

}  // namespace datahub::store
