// Secret hygiene: a recognizable password, put through every operation, shows up in no
// log line, no exception, no pg_dump output and no server log line (log_statement=all).
#include "store/support.hpp"

#include <doctest/doctest.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <fstream>
#include <mutex>
#include <sstream>

namespace {

const std::string kMarker = "Hyg13ne-SECRET-4f2b9";

std::string read_file(const char* path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

TEST_CASE("the password appears in no log, error, dump or server log") {
  test::clear_table();
  // Only what this test makes the server log: the next test case puts the marker in
  // non-secret columns on purpose, and a second run against the same server finds it.
  const char* server_log = std::getenv("DATAHUB_TEST_PG_LOG");
  const std::size_t server_log_start = server_log ? read_file(server_log).size() : 0;
  std::mutex mutex;
  std::string log_text, error_text;
  datahub::StoreOptions options;
  options.database = test::database();
  options.keys = test::keyring("k2", {"k1", "k2"});
  options.log = [&](datahub::LogLevel, const std::string& message) {
    std::lock_guard<std::mutex> lock(mutex);
    log_text += message + "\n";
  };
  datahub::ConnectionStore store(options);
  auto record = [&](const std::function<void()>& action) {
    try {
      action();
    } catch (const std::exception& e) {
      error_text += std::string(e.what()) + "\n";
    }
  };

  // Every operation, with the marker as the password (and in rejected inputs).
  auto old_store = test::open_store(test::keyring("k1", {"k1"}));
  const auto stale = old_store->create(test::sample("stale", kMarker), "tester");
  const auto created = store.create(test::sample("hygiene", kMarker), "tester");
  store.create_many({test::sample("bulk hygiene", kMarker)}, "tester");
  store.get(created.id);
  CHECK(*store.get(created.id, datahub::Secrets::reveal).details.find_string("password") == kMarker);
  store.list({});
  store.find_by_name("hygiene");
  store.for_each({}, [](const datahub::Connection&) { return true; });
  datahub::ConnectionPatch p;
  p.details.set("password", kMarker + "-v2");
  const auto updated = store.update(created.id, p, "tester", created.updated_at);
  record([&] { store.update(created.id, p, "tester", created.updated_at); });  // Conflict
  p.details.set("password", kMarker + std::string(2000, 'x'));
  record([&] { store.update(created.id, p, "tester", updated.updated_at); });  // too long
  auto bad = test::sample("bad", kMarker);
  bad.details.set("unknown_field", kMarker);
  record([&] { store.create(bad, "tester"); });
  bad = test::sample("bad", kMarker);
  bad.details.set("port", "5432");
  record([&] { store.create(bad, "tester"); });
  record([&] { datahub::Details::from_json("{\"password\": \"" + kMarker + "\", "); });
  record([&] { datahub::StaticKeyring::from_string("k1:" + kMarker); });
  store.rotate();
  store.census();
  store.verify();
  // A row that fails to open, in a list (logged) and in get (thrown).
  test::admin() << "UPDATE database_connections SET connection_details = "
                   "jsonb_set(connection_details, '{ct}', '\"AAAA\"') WHERE id = :id", soci::use(stale.id);
  store.list({});
  record([&] { store.get(stale.id); });
  store.verify();
  store.remove(created.id);

  // The failures did happen and were captured, so their absence of the marker means something.
  CHECK(error_text.find("changed since it was read") != std::string::npos);
  CHECK(error_text.find("connection_details.password") != std::string::npos);
  CHECK(error_text.find("connection_details.unknown_field") != std::string::npos);
  CHECK(log_text.find("could not be opened") != std::string::npos);
  CHECK(log_text.find(kMarker) == std::string::npos);
  CHECK(error_text.find(kMarker) == std::string::npos);

  const std::string dump = test::run("pg_dump '" + test::database() + "' 2>&1");
  REQUIRE(dump.find("database_connections") != std::string::npos);
  CHECK(dump.find(kMarker) == std::string::npos);

  if (server_log) {
    std::string text = read_file(server_log);
    if (server_log_start <= text.size()) text.erase(0, server_log_start);  // else rotated: all of it
    REQUIRE(text.find("database_connections") != std::string::npos);  // statements are logged
    CHECK(text.find(kMarker) == std::string::npos);
  } else {
    MESSAGE("DATAHUB_TEST_PG_LOG not set (external database): server log not checked");
  }
}

TEST_CASE("a database error carries no value: the server's DETAIL quoting the row is dropped") {
  test::clear_table();
  auto& store = test::store();
  // A CHECK violation makes the server quote the whole failing row in DETAIL.
  const std::string name = "refused-" + kMarker;
  const test::RefuseName refuse(name);
  auto refused = test::sample(name);
  refused.description = "description-" + kMarker;
  refused.tags = {"tag-" + kMarker};
  for (const bool bulk : {false, true}) {
    CAPTURE(bulk);
    try {
      if (bulk) store.create_many({test::sample("fine"), refused}, "actor-" + kMarker);
      else store.create(refused, "actor-" + kMarker);
      FAIL("the CHECK constraint did not fire");
    } catch (const datahub::Database& e) {
      const std::string text = e.what();
      CHECK(text.find("datahub_test_refuse_name") != std::string::npos);  // the server's primary message is kept
      CHECK(text.find(kMarker) == std::string::npos);
      CHECK(text.find("Failing row") == std::string::npos);
    }
    CHECK(test::row_count() == 0);
  }
}

namespace {

// Runs `f` with file descriptor 2 (stderr) redirected to a temporary file; returns what
// was written there.
template <typename F>
std::string stderr_of(F&& f) {
  char path[] = "/tmp/datahub-stderr-XXXXXX";
  const int file = mkstemp(path);
  REQUIRE(file >= 0);
  std::fflush(stderr);
  const int saved = dup(2);
  dup2(file, 2);
  struct Restore {  // also when `f` throws
    int saved, file;
    const char* path;
    ~Restore() {
      std::fflush(stderr);
      dup2(saved, 2);
      close(saved);
      close(file);
      unlink(path);
    }
  };
  std::string text;
  {
    Restore restore{saved, file, path};
    f();
    std::fflush(stderr);
    text = read_file(path);
  }
  return text;
}

}  // namespace

TEST_CASE("server notices never reach stderr, from any pooled session") {
  auto& store = test::store();
  // Control: a plain libpq session prints the server's NOTICE on stderr, so the capture works.
  const std::string control = stderr_of([] {
    PGconn* conn = PQconnectdb(test::database().c_str());
    REQUIRE(PQstatus(conn) == CONNECTION_OK);
    PQclear(PQexec(conn, "DROP INDEX IF EXISTS datahub_no_such_index"));
    PQfinish(conn);
  });
  CHECK(control.find("NOTICE") != std::string::npos);

  // The store's rollback runs DROP INDEX IF EXISTS on an index already gone, and the
  // migration back CREATE INDEX IF NOT EXISTS on one already there: two notices.
  test::admin() << "DROP INDEX IF EXISTS idx_database_connections_name";
  struct Remigrate {  // the indexes are back whatever happens
    datahub::ConnectionStore& store;
    ~Remigrate() {
      try {
        store.migrate();
      } catch (...) {
      }
    }
  } remigrate{store};
  const std::string seen = stderr_of([&] {
    store.rollback_indexes();
    test::admin() << "CREATE INDEX IF NOT EXISTS idx_database_connections_name ON database_connections(name)";
    store.migrate();
  });
  CHECK(seen.empty());
  CHECK(store.schema_status().current_version == store.schema_status().latest_version);
}
