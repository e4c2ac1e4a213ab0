// The fixture of the write-fault tests (write_faults_test.cpp, write_faults_late_test.cpp):
// a store whose backends the test can find, a trigger that holds or refuses the gate row,
// every write call run against a fresh table, and the checks every outcome must pass.
//
// The fault is placed on one row: a trigger on database_connections waits on an advisory
// lock the test holds whenever a row with the gate's name is inserted, updated or deleted,
// or raises an error for it, or skips it. The test finds the store's backend waiting on that lock, so
// nothing is ordered by sleeping.
#pragma once

#include "common/restore_record.hpp"
#include "store/support.hpp"

#include <datahub/transfer.hpp>

#include <doctest/doctest.h>
#include <soci/postgresql/soci-postgresql.h>

#include <chrono>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace write_faults {


using Clock = std::chrono::steady_clock;

inline constexpr const char* kApplication = "datahub_write_faults";
inline constexpr const char* kGate = "gate";          // the row the fault is placed on
inline constexpr long long kGateLock = 727272;        // the advisory lock the gate waits on
inline constexpr const char* kPassword = "Pa55-word-MARKER";

// The store under test: its sessions carry an application_name the test finds them by,
// and `settings` ("-c statement_timeout=300") as the server options of each session.
inline std::unique_ptr<datahub::ConnectionStore> open_victim(std::shared_ptr<const datahub::KeyProvider> keys,
                                                      const std::string& settings = "") {
  datahub::StoreOptions options;
  options.database = test::database() + " application_name=" + kApplication;
  if (!settings.empty()) options.database += " options='" + settings + "'";
  options.keys = std::move(keys);
  options.pool_size = 2;
  options.acquire_timeout = std::chrono::seconds(5);
  return std::make_unique<datahub::ConnectionStore>(options);
}

// A trigger on database_connections for the row named kGate: `action` runs before it is
// inserted, updated or deleted. Dropped again when this goes out of scope.
class RowTrigger {
 public:
  explicit RowTrigger(const std::string& action, bool at_commit = false) {
    test::admin() << "CREATE OR REPLACE FUNCTION datahub_write_faults_gate() RETURNS trigger LANGUAGE plpgsql AS $$ "
                     "BEGIN "
                     "IF (CASE WHEN TG_OP = 'DELETE' THEN OLD.name ELSE NEW.name END) = '" +
                         std::string(kGate) + "' THEN " + action +
                         "; END IF; "
                         "IF TG_OP = 'DELETE' THEN RETURN OLD; END IF; RETURN NEW; END $$";
    test::admin() << std::string(at_commit ? "CREATE CONSTRAINT TRIGGER datahub_write_faults_gate AFTER "
                                           : "CREATE TRIGGER datahub_write_faults_gate BEFORE ") +
                         "INSERT OR UPDATE OR DELETE ON database_connections " +
                         (at_commit ? "DEFERRABLE INITIALLY DEFERRED " : "") +
                         "FOR EACH ROW EXECUTE FUNCTION datahub_write_faults_gate()";
  }
  ~RowTrigger() {
    test::admin() << "DROP TRIGGER IF EXISTS datahub_write_faults_gate ON database_connections";
    test::admin() << "DROP FUNCTION IF EXISTS datahub_write_faults_gate()";
  }
  RowTrigger(const RowTrigger&) = delete;
  RowTrigger& operator=(const RowTrigger&) = delete;
};

// The gate closed: a session of our own holds the advisory lock the trigger waits on.
class ClosedGate {
 public:
  explicit ClosedGate(bool at_commit = false)
      : trigger_("PERFORM pg_advisory_xact_lock(" + std::to_string(kGateLock) + ")", at_commit) {
    holder_ << "SELECT pg_advisory_lock(" + std::to_string(kGateLock) + ")";
  }
  ~ClosedGate() {
    holder_ << "SELECT pg_advisory_unlock_all()";
  }

 private:
  RowTrigger trigger_;
  soci::session holder_{soci::postgresql, test::database()};
};

// The pid of the store's backend waiting on a lock, once one does (0 after 10 s).
inline int waiting_backend() {
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  while (Clock::now() < deadline) {
    int pid = 0;
    soci::indicator ind = soci::i_null;
    test::admin() << "SELECT pid FROM pg_stat_activity WHERE application_name = '" + std::string(kApplication) +
                         "' AND wait_event_type = 'Lock' LIMIT 1",
        soci::into(pid, ind);
    if (test::admin().got_data() && ind == soci::i_ok) return pid;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return 0;
}

struct Outcome {
  bool threw = false;
  datahub::ErrorCode code = datahub::ErrorCode::ok;
  std::string message;
  std::string sqlstate;
  double seconds = 0;
};

inline Outcome outcome_of(const std::function<void()>& call) {
  Outcome out;
  const auto start = Clock::now();
  try {
    call();
  } catch (const datahub::Database& e) {
    out = {true, e.code(), e.what(), e.sqlstate()};
  } catch (const datahub::Error& e) {
    out = {true, e.code(), e.what(), ""};
  }
  out.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return out;
}

// Runs `call` against a closed gate, terminates its backend once it waits there.
inline Outcome terminated_at_gate(const std::function<void()>& call, bool at_commit = false) {
  ClosedGate gate(at_commit);
  Outcome out;
  std::thread victim([&] { out = outcome_of(call); });
  const int pid = waiting_backend();
  if (pid != 0) test::admin() << "SELECT pg_terminate_backend(" + std::to_string(pid) + ")";
  victim.join();
  REQUIRE(pid != 0);
  return out;
}

// Every row as text: what "the table is unchanged" compares.
inline std::string table_snapshot() {
  std::string text;
  soci::indicator ind = soci::i_null;
  test::admin() << "SELECT string_agg(id || '|' || name || '|' || md5(connection_details::text) || '|' || "
                   "tags::text || '|' || updated_at::text || '|' || updated_by, E'\\n' ORDER BY id) "
                   "FROM database_connections",
      soci::into(text, ind);
  return ind == soci::i_ok ? text : std::string();
}

inline void check_safe_message(const Outcome& out) {
  CAPTURE(out.message);
  CHECK(out.message.find(kPassword) == std::string::npos);
  CHECK(out.message.find("DETAIL") == std::string::npos);
  CHECK(out.message.find("Key (") == std::string::npos);
}

// The next calls on the same store succeed.
inline void check_usable(datahub::ConnectionStore& store) {
  for (int i = 0; i < 3; ++i) {  // more calls than sessions: every one is leased again
    const auto c = store.create(test::sample("after the fault " + std::to_string(i)), "tester");
    CHECK(store.get(c.id, datahub::Secrets::reveal).name == c.name);
    store.remove(c.id);
  }
}

inline datahub::Connection record(std::int64_t id, const std::string& name) {
  return test::restore_record(id, name, kPassword);
}

inline std::string import_line(std::int64_t id, const std::string& name) {
  return R"({"id":)" + std::to_string(id) + R"(,"name":")" + name +
         R"(","description":null,"type":"POSTGRESQL","connection_details":{"host":"db.example","port":5432,)"
         R"("database":"main","username":"app"},"tags":["bulk"],"created_at":"2024-03-20T10:00:00.000000Z",)"
         R"("created_by":"u1","updated_at":"2024-03-20T10:00:00.000000Z","updated_by":"u1","redacted":["password"]})";
}

// The gate row of the table fill_table() makes.
struct Gate {
  std::int64_t id = 0;
  datahub::Timestamp updated_at;
};

// A table with a few rows under k1, and the gate row last; the fault is placed on the gate.
inline Gate fill_table() {
  test::clear_table();
  auto& store = test::store();
  store.create_many(test::samples("before ", 5), "setup");
  const auto gate = store.create(test::sample(kGate), "setup");
  return {gate.id, gate.updated_at};
}

// One write call, reaching the gate row late: in create_many's and restore's second batch,
// in restore(next)'s second call, in rotate's third batch.
struct Call {
  std::string name;
  std::string operation;  // what its messages start with
  bool inserts;           // writes new rows (a lock on the gate row does not stop it)
  std::function<void(datahub::ConnectionStore&)> run;
};

inline std::vector<Call> calls(const Gate& gate) {
  auto restore_records = [] {
    std::vector<datahub::Connection> records;
    for (int i = 0; i < 1100; ++i) records.push_back(record(100000 + i, i == 1050 ? kGate : "r" + std::to_string(i)));
    return records;
  };
  return {
      {"create", "create", true, [](datahub::ConnectionStore& s) { s.create(test::sample(kGate), "tester"); }},
      {"create_many", "create_many", true,
       [](datahub::ConnectionStore& s) {
         auto inputs = test::samples("many ", 1100);
         inputs[1050].name = kGate;  // in the second batch, sealed on the helper thread
         s.create_many(inputs, "tester");
       }},
      {"update", "update", false,
       [gate](datahub::ConnectionStore& s) {
         datahub::ConnectionPatch p;
         p.details.set("password", "changed-password");
         s.update(gate.id, p, "tester", gate.updated_at);
       }},
      {"force_update", "update", false,
       [gate](datahub::ConnectionStore& s) {
         datahub::ConnectionPatch p;
         p.description = std::optional<std::string>("changed");
         s.force_update(gate.id, p, "tester");
       }},
      {"remove", "delete", false, [gate](datahub::ConnectionStore& s) { s.remove(gate.id); }},
      {"restore", "restore", true, [restore_records](datahub::ConnectionStore& s) { s.restore(restore_records()); }},
      {"restore(next)", "restore", true,
       [](datahub::ConnectionStore& s) {
         int batch_no = 0;
         s.restore([&](std::vector<datahub::Connection>& batch) {
           if (batch_no == 3) return;
           for (int i = 0; i < 3; ++i) {
             const int id = 100000 + batch_no * 10 + i;
             batch.push_back(record(id, batch_no == 1 && i == 1 ? kGate : "r" + std::to_string(id)));
           }
           ++batch_no;
         });
       }},
      {"import", "restore", true,
       [](datahub::ConnectionStore& s) {
         std::ostringstream file;
         for (int i = 0; i < 1100; ++i) file << import_line(100000 + i, i == 1050 ? kGate : "i" + std::to_string(i)) << '\n';
         std::istringstream in(file.str());
         const auto report = datahub::import_connections(s, in);
         if (!report.written) throw datahub::Error(datahub::ErrorCode::internal, "import: not written");
       }},
      {"rotate", "rotate", false,
       [](datahub::ConnectionStore& s) {
         datahub::RotateOptions o;
         o.batch_size = 2;  // the gate, sixth of six rows, in the third batch
         s.rotate(o);
       }},
  };
}

// The victims' keys: k2 is primary, so rotate has k1's rows to move.
inline std::shared_ptr<datahub::StaticKeyring> victim_keys() { return test::keyring("k2", {"k1", "k2"}); }

// After a failed call: the table as it was, or for rotate, every row readable under one of
// the two keys, and a second rotation finishing the job.
inline void check_after(const Call& call, datahub::ConnectionStore& store, const std::string& before) {
  if (call.name != "rotate") {
    CHECK(table_snapshot() == before);
  } else {
    CHECK(store.verify().failed.empty());
    CHECK(store.rotate().failed == 0);
    const auto census = store.census();
    REQUIRE(census.keys.size() == 1);
    CHECK(census.keys[0].key_id == "k2");
  }
  check_usable(store);
}

// Runs every call against a fresh table and store with `fault` around it; `expect` checks
// the outcome. Calls for which `applies` is false are skipped.
inline void for_every_call(const std::string& settings, const std::function<bool(const Call&)>& applies,
                    const std::function<Outcome(const Call&, datahub::ConnectionStore&)>& fault,
                    const std::function<void(const Call&, const Outcome&)>& expect) {
  const std::size_t count = calls({}).size();
  for (std::size_t k = 0; k < count; ++k) {
    const Gate gate = fill_table();
    const Call call = calls(gate)[k];
    if (!applies(call)) continue;
    CAPTURE(call.name);
    auto store = open_victim(victim_keys(), settings);
    const std::string before = table_snapshot();
    const Outcome out = fault(call, *store);
    CAPTURE(out.message);
    REQUIRE(out.threw);
    CHECK(out.message.rfind(call.operation + ": ", 0) == 0);
    check_safe_message(out);
    expect(call, out);
    check_after(call, *store, before);
  }
}

inline bool every_call(const Call&) { return true; }

// A Database error whose message is the operation and the server's primary message, as
// architecture.md promises: no client library's wording, no severity, no DETAIL.
inline void expect_server_error(const Call& call, const Outcome& out, const std::string& sqlstate,
                         const std::string& server_message) {
  CHECK(out.code == datahub::ErrorCode::database);
  CHECK(out.sqlstate == sqlstate);
  const std::string expected = call.operation + ": " + server_message + " (SQLSTATE " + sqlstate + ")";
  // A row a COPY sent, when the server named its line: " at connections[i]" (create_many),
  // " at connection <id>" (restore, and import through it). At commit no line is named.
  const std::string row = call.operation == "create_many" ? " at connections[" :
                          call.operation == "restore"     ? " at connection " : "";
  CHECK_MESSAGE((out.message == expected || (!row.empty() && out.message.rfind(expected + row, 0) == 0)), out.message);
}

// Unavailable, with the reason the server or libpq gave and no client library's wording.
inline void expect_unavailable(const Call& call, const Outcome& out) {
  CHECK(out.code == datahub::ErrorCode::unavailable);
  CHECK(out.message.rfind(call.operation + ": the database is unavailable (", 0) == 0);
  CHECK(out.message.find("Cannot ") == std::string::npos);
  CHECK(out.message.find("Fatal error") == std::string::npos);
}


}  // namespace write_faults
