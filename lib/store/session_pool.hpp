// A fixed pool of PostgreSQL sessions; each call borrows one for its duration.
//
// A borrowed session is checked first: one whose connection broke (server restart,
// terminated backend) is reopened before use, so one outage does not poison the pool; one
// given back inside a transaction has it rolled back, so no call runs in another's.
//
// Waiting calls are served in arrival order. A thread gets back the session it used last
// when that one is free (HikariCP's
// ConcurrentBag does the same). A thread that always talks to the same backend lets the
// kernel keep the pair on one CPU, and keeps that session's statements and the backend's
// caches warm; handing them out in index order made threads trade backends on most calls.
#pragma once

#include "store/log.hpp"

#include <libpq-fe.h>

#include <soci/soci.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace datahub::store {

class SessionPool {
 public:
  // Opens `size` sessions. Throws InvalidArgument (bad conninfo) or Unavailable.
  SessionPool(const std::string& conninfo, std::size_t size, std::chrono::seconds connect_timeout,
              std::chrono::seconds acquire_timeout, Log log);
  ~SessionPool();

  class Lease {
   public:
    Lease(SessionPool& pool, std::size_t position) : pool_(&pool), position_(position) {}
    Lease(Lease&& other) noexcept : pool_(other.pool_), position_(other.position_) { other.pool_ = nullptr; }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    soci::session& session() const;
    std::size_t position() const noexcept { return position_; }
    // The session's libpq connection (nullptr when it has none).
    PGconn* connection() const;
    // SQL text -> name of the statements prepared on this connection; emptied on reconnect.
    std::unordered_map<std::string, std::string>& prepared_statements() const;

   private:
    SessionPool* pool_;
    std::size_t position_;
  };

  // Waits for a free session and makes sure it is connected. Throws Unavailable after the
  // acquire timeout, or when a broken session cannot be reopened.
  Lease lease();

  std::size_t size() const noexcept { return size_; }

 private:
  void ensure_connected(std::size_t position);
  // Takes a free session (this thread's last one first); false when none is free.
  bool take_free(std::size_t& position);
  void give_back(std::size_t position);

  std::vector<std::unique_ptr<soci::session>> sessions_;
  std::vector<std::unordered_map<std::string, std::string>> prepared_;
  // Per session: the server said goodbye (FATAL) while it was idle. Written by libpq's
  // notice receiver on the thread holding the session, read by the next one to lease it.
  std::unique_ptr<bool[]> doomed_;
  std::vector<bool> in_use_;
  std::mutex mutex_;  // guards in_use_, waiting_ and next_ticket_
  std::condition_variable freed_;
  std::deque<std::uint64_t> waiting_;  // tickets of the calls waiting for a session, in order
  std::uint64_t next_ticket_ = 0;
  std::uint64_t serial_;  // tells this pool's sessions apart in threads' hints
  std::size_t size_;
  std::chrono::seconds acquire_timeout_;
  Log log_;
};

// Adds connect_timeout to a conninfo (keyword/value or URI) that has none, rebuilding it
// as keyword/value pairs; validates with libpq.
std::string conninfo_with_timeout(const std::string& conninfo, std::chrono::seconds timeout);

}  // namespace datahub::store
