// Write paths under server-side faults, in the middle of the call: a terminated backend, a
// statement or lock timeout, a lock held by another session, a row the server rejects.
// What must hold: a typed datahub::Error with no secret in its message; the table
// unchanged (create, create_many, update, remove, restore, import) or consistent (rotate:
// every row under the old key or the new, all readable); the store usable for the next call.
//
// The fault is placed on one row: a trigger on database_connections waits on an advisory
// lock the test holds whenever a row with the gate's name is inserted, updated or deleted,
// or raises an error for it, or skips it. The test finds the store's backend waiting on that lock, so
// nothing is ordered by sleeping.
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

namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kApplication = "datahub_write_faults";
constexpr const char* kGate = "gate";          // the row the fault is placed on
constexpr long long kGateLock = 727272;        // the advisory lock the gate waits on
constexpr const char* kPassword = "Pa55-word-MARKER";

// The store under test: its sessions carry an application_name the test finds them by,
// and `settings` ("-c statement_timeout=300") as the server options of each session.
std::unique_ptr<datahub::ConnectionStore> open_victim(std::shared_ptr<const datahub::KeyProvider> keys,
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
int waiting_backend() {
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

Outcome outcome_of(const std::function<void()>& call) {
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
Outcome terminated_at_gate(const std::function<void()>& call, bool at_commit = false) {
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
std::string table_snapshot() {
  std::string text;
  soci::indicator ind = soci::i_null;
  test::admin() << "SELECT string_agg(id || '|' || name || '|' || md5(connection_details::text) || '|' || "
                   "tags::text || '|' || updated_at::text || '|' || updated_by, E'\\n' ORDER BY id) "
                   "FROM database_connections",
      soci::into(text, ind);
  return ind == soci::i_ok ? text : std::string();
}

void check_safe_message(const Outcome& out) {
  CAPTURE(out.message);
  CHECK(out.message.find(kPassword) == std::string::npos);
  CHECK(out.message.find("DETAIL") == std::string::npos);
  CHECK(out.message.find("Key (") == std::string::npos);
}

// The next calls on the same store succeed.
void check_usable(datahub::ConnectionStore& store) {
  for (int i = 0; i < 3; ++i) {  // more calls than sessions: every one is leased again
    const auto c = store.create(test::sample("after the fault " + std::to_string(i)), "tester");
    CHECK(store.get(c.id, datahub::Secrets::reveal).name == c.name);
    store.remove(c.id);
  }
}

datahub::Connection record(std::int64_t id, const std::string& name) {
  datahub::Connection c;
  c.id = id;
  c.name = name;
  c.type = "POSTGRESQL";
  c.details.set("host", "db").set("database", "main").set("username", "app").set("password", kPassword);
  c.tags = {"restored"};
  c.created_at = datahub::parse_timestamp("2024-03-20T10:00:00.123456Z");
  c.created_by = "user_01";
  c.updated_at = datahub::parse_timestamp("2024-03-21T11:30:00.654321Z");
  c.updated_by = "user_02";
  return c;
}

std::string import_line(std::int64_t id, const std::string& name) {
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
Gate fill_table() {
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

std::vector<Call> calls(const Gate& gate) {
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
std::shared_ptr<datahub::StaticKeyring> victim_keys() { return test::keyring("k2", {"k1", "k2"}); }

// After a failed call: the table as it was, or for rotate, every row readable under one of
// the two keys, and a second rotation finishing the job.
void check_after(const Call& call, datahub::ConnectionStore& store, const std::string& before) {
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
void for_every_call(const std::string& settings, const std::function<bool(const Call&)>& applies,
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

bool every_call(const Call&) { return true; }

// A Database error whose message is the operation and the server's primary message, as
// architecture.md promises: no client library's wording, no severity, no DETAIL.
void expect_server_error(const Call& call, const Outcome& out, const std::string& sqlstate,
                         const std::string& server_message) {
  CHECK(out.code == datahub::ErrorCode::database);
  CHECK(out.sqlstate == sqlstate);
  CHECK(out.message == call.operation + ": " + server_message + " (SQLSTATE " + sqlstate + ")");
}

// Unavailable, with the reason the server or libpq gave and no client library's wording.
void expect_unavailable(const Call& call, const Outcome& out) {
  CHECK(out.code == datahub::ErrorCode::unavailable);
  CHECK(out.message.rfind(call.operation + ": the database is unavailable (", 0) == 0);
  CHECK(out.message.find("Cannot ") == std::string::npos);
  CHECK(out.message.find("Fatal error") == std::string::npos);
}

}  // namespace

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
