// Write faults continued: a session ended while restore(next) or import reads its source,
// rotate with two workers stopped by a fault, and rows a trigger skips. What must hold:
// write_faults_test.cpp; the fixture: write_faults_support.hpp.
#include "store/write_faults_support.hpp"

#include <datahub/transfer.hpp>

#include <doctest/doctest.h>

#include <string>

using namespace write_faults;

namespace {

// The pid of the store's one backend in `state` ("idle in transaction"), or 0.
int backend_in(const std::string& state) {
  int pid = 0;
  soci::indicator ind = soci::i_null;
  test::admin() << "SELECT pid FROM pg_stat_activity WHERE application_name = '" + std::string(kApplication) +
                       "' AND state = '" + state + "' LIMIT 1",
      soci::into(pid, ind);
  return test::admin().got_data() && ind == soci::i_ok ? pid : 0;
}

// Waits until the backend `pid` has exited.
void wait_gone(int pid) {
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  int left = 1;
  while (left > 0 && Clock::now() < deadline) {
    test::admin() << "SELECT count(*) FROM pg_stat_activity WHERE pid = " + std::to_string(pid), soci::into(left);
    if (left > 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  REQUIRE(left == 0);
}

// Waits until the store has `count` backends left.
void wait_backends(int count) {
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  int left = -1;
  while (left != count && Clock::now() < deadline) {
    test::admin() << "SELECT count(*) FROM pg_stat_activity WHERE application_name = '" + std::string(kApplication) +
                         "'",
        soci::into(left);
    if (left != count) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  REQUIRE(left == count);
}

}  // namespace

TEST_CASE("write faults: restore(next) and import whose session is ended while the source is read are Unavailable") {
  // While restore(next) waits for its source (import: for the next lines, or a passphrase),
  // its transaction sits idle: an operator may end it, or idle_in_transaction_session_timeout.
  const std::function<Outcome(datahub::ConnectionStore&, const std::function<void()>&)> sources[] = {
      [](datahub::ConnectionStore& store, const std::function<void()>& end_session) {
        int batch_no = 0;
        return outcome_of([&] {
          store.restore([&](std::vector<datahub::Connection>& batch) {
            if (batch_no == 3) return;
            if (batch_no == 1) end_session();
            for (int i = 0; i < 3; ++i) batch.push_back(record(100000 + batch_no * 10 + i, "r"));
            ++batch_no;
          });
        });
      },
      [](datahub::ConnectionStore& store, const std::function<void()>& end_session) {
        // A sealed line after the first batch: the passphrase is asked for with the table locked.
        std::ostringstream file;
        for (int i = 0; i < 1001; ++i) file << import_line(100000 + i, "i" + std::to_string(i)) << '\n';
        datahub::ExportOptions sealing;
        sealing.passphrase = "a long enough passphrase";
        sealing.kdf = datahub::PassphraseKdf::scrypt;
        datahub::write_export({record(200000, "sealed")}, file, sealing);
        std::istringstream in(file.str());
        datahub::ImportOptions options;
        options.passphrase = [&] {
          end_session();
          return std::string("a long enough passphrase");
        };
        return outcome_of([&] { datahub::import_connections(store, in, options); });
      },
  };
  for (const auto& source : sources) {
    for (const bool by_timeout : {false, true}) {
      CAPTURE(by_timeout);  // pg_terminate_backend, or idle_in_transaction_session_timeout
      fill_table();
      auto store = open_victim(victim_keys(), by_timeout ? "-c idle_in_transaction_session_timeout=100" : "");
      const std::string before = table_snapshot();
      const Outcome out = source(*store, [&] {
        if (by_timeout) {
          wait_backends(1);  // of the pool's two sessions, the restore's is gone
          return;
        }
        const int pid = backend_in("idle in transaction");  // the restore's, waiting for its source
        REQUIRE(pid != 0);
        test::admin() << "SELECT pg_terminate_backend(" + std::to_string(pid) + ")";
        wait_gone(pid);
      });
      CAPTURE(out.message);
      CHECK(out.code == datahub::ErrorCode::unavailable);
      CHECK(out.message.rfind("restore: ", 0) == 0);
      check_safe_message(out);
      CHECK(table_snapshot() == before);
      check_usable(*store);
    }
  }
}

TEST_CASE("write faults: rotate with two workers, one stopped by a fault: every row readable, a second run finishes") {
  for (const bool terminate : {true, false}) {
    CAPTURE(terminate);  // pg_terminate_backend, or statement_timeout
    fill_table();
    auto store = open_victim(victim_keys(), terminate ? "" : "-c statement_timeout=200");
    datahub::RotateOptions options;
    options.batch_size = 1;
    options.workers = 2;
    Outcome out;
    if (terminate) {
      out = terminated_at_gate([&] { store->rotate(options); });
    } else {
      ClosedGate gate;
      out = outcome_of([&] { store->rotate(options); });
    }
    CAPTURE(out.message);
    CHECK(out.code == (terminate ? datahub::ErrorCode::unavailable : datahub::ErrorCode::database));
    check_safe_message(out);
    int moved = 0;
    test::admin() << "SELECT count(*) FROM database_connections WHERE connection_details->>'kid' = 'k2'",
        soci::into(moved);
    CHECK(moved == 5);  // every row before the gate: the workers took batches in id order
    const Call rotate = calls({}).back();
    check_after(rotate, *store, "");
  }
}

// A BEFORE trigger that returns NULL skips the row without an error: the server reports
// fewer rows written (COPY's count, no RETURNING row). A call must not return as if written.
namespace {

Outcome skipped_by_trigger(const Call& call, datahub::ConnectionStore& store) {
  RowTrigger skip("RETURN NULL");
  return outcome_of([&] { call.run(store); });
}

void expect_skipped(const Call&, const Outcome& out) {
  CHECK(out.code == datahub::ErrorCode::database);
  CHECK(out.message.find("a trigger on the table skipped") != std::string::npos);
}

}  // namespace

TEST_CASE("write faults: a row a trigger skips fails create_many, update, restore and import, and changes nothing") {
  for_every_call(
      "",
      [](const Call& call) {
        return call.name != "create" && call.name != "remove" && call.name != "rotate";  // below
      },
      skipped_by_trigger, expect_skipped);
}

TEST_CASE("write faults: a row a trigger skips is left by rotate, counted as changed; every row opens") {
  const Gate gate = fill_table();
  auto store = open_victim(victim_keys());
  datahub::RotateReport report;
  {
    RowTrigger skip("RETURN NULL");
    report = store->rotate();
  }
  CHECK(report.rewritten == 5);
  CHECK(report.skipped_changed == 1);
  CHECK(test::stored(gate.id, "connection_details->>'kid'") == "k1");
  CHECK(store->verify().failed.empty());
  check_after(calls({}).back(), *store, "");
}

// create() read the RETURNING row of its INSERT without checking there was one (PQgetvalue
// gave NULL: SIGSEGV), and remove() reported NotFound for a row that was still there.
TEST_CASE("write faults: a row a trigger skips fails create and remove with Database, and changes nothing") {
  for_every_call(
      "", [](const Call& call) { return call.name == "create" || call.name == "remove"; }, skipped_by_trigger,
      expect_skipped);
}
