// SessionPool, the store's internal pool: which session a lease gets, and waiting for one.
// Built against the object library (the shared library hides store::), with a real server.
#include "store/session_pool.hpp"

#include "holding_proxy.hpp"

#include <datahub/error.hpp>

#include <doctest/doctest.h>
#include <libpq-fe.h>

#include <chrono>
#include <map>
#include <cstdlib>
#include <future>
#include <thread>
#include <vector>

namespace {

using datahub::store::SessionPool;
using namespace std::chrono_literals;

std::string database() {
  const char* conninfo = std::getenv("DATAHUB_TEST_DATABASE");
  REQUIRE_MESSAGE(conninfo, "DATAHUB_TEST_DATABASE must name the test server (tests/run.sh sets it)");
  return conninfo;
}

SessionPool make_pool(std::size_t size) {
  return SessionPool(database(), size, 5s, 1s, datahub::store::Log{});
}

// The position a lease taken on another thread gets, while that thread keeps holding it.
struct HeldElsewhere {
  std::promise<std::size_t> taken;
  std::promise<void> release;
  std::thread thread;

  explicit HeldElsewhere(SessionPool& pool) {
    thread = std::thread([this, &pool] {
      auto lease = pool.lease();
      taken.set_value(lease.position());
      release.get_future().wait();
    });
  }
  std::size_t position() { return taken.get_future().get(); }
  void give_back() {
    release.set_value();
    thread.join();
  }
};

}  // namespace

TEST_CASE("a thread gets back the session it used last, not the lowest free one") {
  SessionPool pool = make_pool(3);
  HeldElsewhere other(pool);
  const std::size_t others = other.position();
  std::size_t mine = 0;
  {
    auto lease = pool.lease();
    mine = lease.position();
    CHECK(mine != others);
  }
  other.give_back();  // now every session is free, the other thread's one first in order
  for (int i = 0; i < 3; ++i) CHECK(pool.lease().position() == mine);
}

TEST_CASE("a thread whose last session is busy takes another free one at once") {
  SessionPool pool = make_pool(2);
  const std::size_t mine = pool.lease().position();
  HeldElsewhere other(pool);  // new to the pool: it takes the first free session, ours
  REQUIRE(other.position() == mine);
  const auto start = std::chrono::steady_clock::now();
  CHECK(pool.lease().position() != mine);
  CHECK(std::chrono::steady_clock::now() - start < 500ms);
  other.give_back();
}

TEST_CASE("a lease waits for a session to be given back, and times out when none is") {
  SessionPool pool = make_pool(1);
  HeldElsewhere other(pool);
  const std::size_t held = other.position();
  const auto start = std::chrono::steady_clock::now();
  CHECK_THROWS_AS(pool.lease(), datahub::Unavailable);
  CHECK(std::chrono::steady_clock::now() - start >= 900ms);

  auto waiting = std::async(std::launch::async, [&pool] { return pool.lease().position(); });
  CHECK(waiting.wait_for(100ms) == std::future_status::timeout);
  other.give_back();
  CHECK(waiting.get() == held);
}

namespace {

// What libpq reads from `conninfo`: keyword -> value, for the options it sets.
std::map<std::string, std::string> libpq_reads(const std::string& conninfo) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &error);
  REQUIRE_MESSAGE(options, conninfo);
  std::map<std::string, std::string> out;
  for (PQconninfoOption* o = options; o->keyword; ++o) {
    if (o->val) out[o->keyword] = o->val;
  }
  PQconninfoFree(options);
  return out;
}

}  // namespace

TEST_CASE("connect_timeout is added to any conninfo without one, and changes nothing else") {
  using datahub::store::conninfo_with_timeout;
  for (const std::string conninfo :
       {"host=db dbname=main user=app password='it\\'s \\\\ odd'", "postgresql://app:pa?ss@db/main",
        "postgresql://app@db/main?", "postgresql://app@db:5433,other:5434/main?sslmode=require&",
        "postgres:///main?host=/run/postgresql"}) {
    CAPTURE(conninfo);
    auto expected = libpq_reads(conninfo);
    expected["connect_timeout"] = "7";
    CHECK(libpq_reads(conninfo_with_timeout(conninfo, 7s)) == expected);
  }
  // One given is kept.
  CHECK(conninfo_with_timeout("postgresql://db/main?connect_timeout=2", 7s) == "postgresql://db/main?connect_timeout=2");
  CHECK_THROWS_AS(conninfo_with_timeout("host='unterminated", 7s), datahub::InvalidArgument);
}

namespace {

PGTransactionStatusType transaction_status(const SessionPool::Lease& lease) {
  return PQtransactionStatus(lease.connection());
}

}  // namespace

TEST_CASE("a session given back inside a transaction is leased again outside it") {
  std::vector<std::string> logged;  // each is a defect of the path that gave it back: logged
  SessionPool pool(database(), 1, 5s, 1s, datahub::store::Log([&logged](datahub::LogLevel, const std::string& message) {
                     logged.push_back(message);
                   }));
  SUBCASE("an open transaction is rolled back, and what it wrote with it") {
    {
      auto lease = pool.lease();
      lease.session() << "CREATE TEMP TABLE left_open (x int)";
      lease.session() << "BEGIN";
      lease.session() << "INSERT INTO left_open VALUES (1)";
      REQUIRE(transaction_status(lease) == PQTRANS_INTRANS);
    }
    auto lease = pool.lease();
    CHECK(transaction_status(lease) == PQTRANS_IDLE);
    int rows = -1;
    lease.session() << "SELECT count(*) FROM left_open", soci::into(rows);
    CHECK(rows == 0);  // the same backend (the temp table is there), the insert undone
    CHECK(logged == std::vector<std::string>{"database session 0 was given back inside a transaction; rolling it back"});
  }
  SUBCASE("a failed transaction is rolled back") {
    {
      auto lease = pool.lease();
      lease.session() << "BEGIN";
      CHECK_THROWS(lease.session() << "SELECT 1/0");
      REQUIRE(transaction_status(lease) == PQTRANS_INERROR);
    }
    auto lease = pool.lease();
    CHECK(transaction_status(lease) == PQTRANS_IDLE);
    int one = 0;
    lease.session() << "SELECT 1", soci::into(one);
    CHECK(one == 1);
  }
  SUBCASE("a connection left inside a COPY is reopened") {
    int pid_before = 0;
    {
      auto lease = pool.lease();
      lease.session() << "SELECT pg_backend_pid()", soci::into(pid_before);
      PGresult* copy = PQexec(lease.connection(), "COPY (SELECT 1) TO STDOUT");
      REQUIRE(PQresultStatus(copy) == PGRES_COPY_OUT);
      PQclear(copy);
      REQUIRE(transaction_status(lease) == PQTRANS_ACTIVE);
    }
    auto lease = pool.lease();
    CHECK(transaction_status(lease) == PQTRANS_IDLE);
    int pid_after = 0;
    lease.session() << "SELECT pg_backend_pid()", soci::into(pid_after);
    CHECK(pid_after != pid_before);
    REQUIRE(!logged.empty());
    CHECK(logged.front() == "database session 0 was given back inside a statement; reconnecting");
  }
}

TEST_CASE("a session whose backend said goodbye while idle is reopened, even before the EOF arrives") {
  // pg_terminate_backend (or idle_session_timeout) makes the backend send a FATAL message and
  // close. A lease that came between the two saw a healthy connection, and its call failed.
  const auto settings = libpq_reads(database());
  test::HoldingProxy proxy(std::stoi(settings.at("port")));
  SessionPool pool("host=127.0.0.1 port=" + std::to_string(proxy.port()) + " dbname=" + settings.at("dbname") +
                       " user=" + settings.at("user"),
                   1, 5s, 1s, datahub::store::Log{});
  int pid_before = 0;
  pool.lease().session() << "SELECT pg_backend_pid()", soci::into(pid_before);

  PGconn* admin = PQconnectdb(database().c_str());
  REQUIRE(PQstatus(admin) == CONNECTION_OK);
  const std::string pid = std::to_string(pid_before);
  PQclear(PQexec(admin, ("SELECT pg_terminate_backend(" + pid + ")").c_str()));
  PQfinish(admin);
  // The goodbye has reached the client's socket once the proxy saw the server close.
  for (int waited = 0; proxy.server_closes() == 0 && waited < 500; ++waited) std::this_thread::sleep_for(10ms);
  REQUIRE(proxy.server_closes() == 1);

  auto lease = pool.lease();
  int pid_after = 0;
  CHECK_NOTHROW(lease.session() << "SELECT pg_backend_pid()", soci::into(pid_after));
  CHECK(pid_after != pid_before);
}
