// Write paths under server-side faults, in the middle of the call: a terminated backend, a
// statement or lock timeout, a lock held by another session, a row the server rejects.
// What must hold: a typed datahub::Error with no secret in its message; the table
// unchanged (create, create_many, update, remove, restore, import) or consistent (rotate:
// every row under the old key or the new, all readable); the store usable for the next call.
// The fixture, and how a fault is placed on one row: write_faults_support.hpp.
#include "store/write_faults_support.hpp"

#include <datahub/transfer.hpp>

#include <doctest/doctest.h>

#include <string>

using namespace write_faults;

TEST_CASE("write faults: a backend terminated in the middle of each write call is Unavailable, and changes nothing") {
  for_every_call(
      "", every_call,
      [](const Call& call, datahub::ConnectionStore& store) {
        return terminated_at_gate([&] { call.run(store); });
      },
      expect_unavailable);
}

TEST_CASE("write faults: a backend terminated while each write call commits is Unavailable, and changes nothing") {
  // The gate in a deferred constraint trigger: create's INSERT, remove's DELETE and rotate's
  // batches commit at the statement's end, the others at COMMIT.
  for_every_call(
      "", every_call,
      [](const Call& call, datahub::ConnectionStore& store) {
        return terminated_at_gate([&] { call.run(store); }, /*at_commit=*/true);
      },
      expect_unavailable);
}

TEST_CASE("write faults: a statement_timeout in the middle of each write call is Database 57014, the server's message") {
  for_every_call(
      "-c statement_timeout=200", every_call,
      [](const Call& call, datahub::ConnectionStore& store) {
        ClosedGate gate;
        return outcome_of([&] { call.run(store); });
      },
      [](const Call& call, const Outcome& out) {
        expect_server_error(call, out, "57014", "canceling statement due to statement timeout");
      });
}

namespace {

void expect_lock_timeout(const Call& call, const Outcome& out) {
  expect_server_error(call, out, "55P03", "canceling statement due to lock timeout");
}

}  // namespace

TEST_CASE("write faults: a lock_timeout behind an advisory lock a row trigger waits on is Database 55P03") {
  for_every_call(
      "-c lock_timeout=100", every_call,
      [](const Call& call, datahub::ConnectionStore& store) {
        ClosedGate gate;
        return outcome_of([&] { call.run(store); });
      },
      expect_lock_timeout);
}

TEST_CASE("write faults: a lock_timeout behind the table locked against writers by another session is Database 55P03") {
  for_every_call(
      "-c lock_timeout=100", every_call,
      [](const Call& call, datahub::ConnectionStore& store) {
        soci::session locker(soci::postgresql, test::database());
        soci::transaction tx(locker);
        locker << "LOCK TABLE database_connections IN SHARE MODE";
        return outcome_of([&] { call.run(store); });
      },
      expect_lock_timeout);
}

TEST_CASE("write faults: a lock_timeout behind the row locked by another session is Database 55P03") {
  for_every_call(
      "-c lock_timeout=100", [](const Call& call) { return !call.inserts; },
      [](const Call& call, datahub::ConnectionStore& store) {
        soci::session locker(soci::postgresql, test::database());
        soci::transaction tx(locker);
        locker << "SELECT 1 FROM database_connections WHERE name = '" + std::string(kGate) + "' FOR UPDATE";
        return outcome_of([&] { call.run(store); });
      },
      expect_lock_timeout);
}

TEST_CASE("write faults: a row a trigger refuses fails each write call with the server's message, and changes nothing") {
  for_every_call(
      "", every_call,
      [](const Call& call, datahub::ConnectionStore& store) {
        RowTrigger refuse("RAISE EXCEPTION 'the test refuses this row'");
        return outcome_of([&] { call.run(store); });
      },
      [](const Call& call, const Outcome& out) { expect_server_error(call, out, "P0001", "the test refuses this row"); });
}

TEST_CASE("write faults: a row a deferred trigger refuses at COMMIT fails each write call with the server's message") {
  for_every_call(
      "", every_call,
      [](const Call& call, datahub::ConnectionStore& store) {
        RowTrigger refuse("RAISE EXCEPTION 'the test refuses this row at commit'", /*at_commit=*/true);
        return outcome_of([&] { call.run(store); });
      },
      [](const Call& call, const Outcome& out) {
        expect_server_error(call, out, "P0001", "the test refuses this row at commit");
      });
}

TEST_CASE("write faults: a row a CHECK constraint refuses fails each write call with the server's message") {
  for_every_call(
      "", [](const Call& call) { return call.name != "remove"; },
      [](const Call& call, datahub::ConnectionStore& store) {
        test::RefuseName refuse(kGate);
        return outcome_of([&] { call.run(store); });
      },
      [](const Call& call, const Outcome& out) {
        expect_server_error(call, out, "23514",
                            "new row for relation \"database_connections\" violates check constraint "
                            "\"datahub_test_refuse_name\"");
      });
}

TEST_CASE("write faults: a name taken under a unique index of the operator's is Database 23505, for restore and import too") {
  // The seed has no such index (names are not unique), but DataHubDB may add one: restore
  // and import must not report it as an id already taken.
  struct UniqueNames {
    UniqueNames() {  // fill_table()'s names are unique
      test::admin() << "CREATE UNIQUE INDEX datahub_write_faults_unique_name ON database_connections (name)";
    }
    ~UniqueNames() { test::admin() << "DROP INDEX IF EXISTS datahub_write_faults_unique_name"; }
  };
  for_every_call(
      "", [](const Call& call) { return call.inserts; },
      [](const Call& call, datahub::ConnectionStore& store) {
        UniqueNames unique;
        const std::string before = table_snapshot();
        const Outcome out = outcome_of([&] { call.run(store); });
        CHECK(table_snapshot() == before);
        return out;
      },
      [](const Call& call, const Outcome& out) {
        expect_server_error(call, out, "23505",
                            "duplicate key value violates unique constraint \"datahub_write_faults_unique_name\"");
        CHECK(out.message.find(kGate) == std::string::npos);  // the DETAIL quotes the name
      });
}
