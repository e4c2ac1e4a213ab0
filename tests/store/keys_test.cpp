// Key management: stale rows, rotation under concurrent edits, interrupted rotation,
// census, verify, missing keys. (Keyring files: keyring_file_test.cpp; the provider's
// view, the DEK cache among it: key_provider_test.cpp; rotation at its edges:
// rotation_edges_test.cpp.)
#include "store/key_rows.hpp"
#include "store/support.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <functional>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <stdexcept>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace {

struct Stop {};  // thrown by a progress callback

// An emptied table refilled with `n` rows under k1, and a store whose primary key is k2
// (k1 kept to read them): the starting point of a rotation.
std::unique_ptr<datahub::ConnectionStore> rows_under_k1(int n, const std::string& cipher = "A256GCM") {
  test::clear_table();
  test::populate(test::keyring("k1", {"k1"}), n);
  return test::open_store(test::keyring("k2", {"k1", "k2"}), cipher);
}

// The table's statistics, as PostgreSQL counts them.
struct TableStats {
  long long updates = 0, hot_updates = 0, index_scans = 0;
};

// A table of its own, in a schema the stores reach through search_path, for the tests that
// read its statistics: the suite's other sessions report their counts as they end, or up
// to 10 s after going idle, and would land in the shared table's figures.
class OwnTable {
 public:
  explicit OwnTable(std::string schema) : schema_(std::move(schema)) {
    test::admin() << "DROP SCHEMA IF EXISTS " + schema_ + " CASCADE";
    test::admin() << "CREATE SCHEMA " + schema_;
    open(test::keyring("k1", {"k1"}))->migrate();
  }
  ~OwnTable() { test::admin() << "DROP SCHEMA IF EXISTS " + schema_ + " CASCADE"; }
  OwnTable(const OwnTable&) = delete;
  OwnTable& operator=(const OwnTable&) = delete;

  std::unique_ptr<datahub::ConnectionStore> open(std::shared_ptr<const datahub::KeyProvider> keys) const {
    datahub::StoreOptions options;
    options.database = test::database() + " options=-csearch_path=" + schema_;
    options.keys = std::move(keys);
    return std::make_unique<datahub::ConnectionStore>(options);
  }
  std::string table() const { return schema_ + ".database_connections"; }

  TableStats stats() const {
    TableStats t;
    test::admin() << "SELECT n_tup_upd, n_tup_hot_upd, COALESCE(idx_scan, 0) FROM pg_stat_user_tables "
                     "WHERE schemaname = :schema AND relname = 'database_connections'",
        soci::use(schema_), soci::into(t.updates), soci::into(t.hot_updates), soci::into(t.index_scans);
    return t;
  }

  // What `work` adds to the table's statistics; it must open (and close) a store of its own
  // and update `updates` rows. A session reports its counts as it ends, and they arrive a
  // moment later: this waits for the updates, which come in the same report as the rest.
  TableStats added_by(long long updates, const std::function<void()>& work) const {
    const TableStats before = stats();
    work();
    TableStats after = stats();
    for (int i = 0; i < 200 && after.updates < before.updates + updates; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      after = stats();
    }
    REQUIRE(after.updates - before.updates == updates);
    return {after.updates - before.updates, after.hot_updates - before.hot_updates,
            after.index_scans - before.index_scans};
  }

 private:
  std::string schema_;
};

}  // namespace

TEST_CASE("a row under an old key reads as stale; updating it re-seals it under the primary") {
  test::clear_table();
  auto old_store = test::open_store(test::keyring("k1", {"k1"}));
  const auto created = old_store->create(test::sample("legacy"), "tester");
  auto store = test::open_store(test::keyring("k2", {"k1", "k2"}));
  const auto read = store->get(created.id);
  CHECK(read.stale);
  CHECK(read.key_id == "k1");
  datahub::ConnectionPatch p;
  p.name = "renamed";
  const auto updated = store->update(created.id, p, "tester", read.updated_at);
  CHECK(updated.key_id == "k2");
  CHECK_FALSE(store->get(created.id).stale);
  CHECK(test::rows_per_key(*store) == std::map<std::string, std::int64_t>{{"k2/A256GCM", 1}});
}

TEST_CASE("rotation of 10,000 rows while another thread keeps editing loses no update") {
  test::clear_table();
  const auto ids = test::populate(test::keyring("k1", {"k1"}), 10000);
  auto store = test::open_store(test::keyring("k2", {"k1", "k2"}));
  CHECK(test::rows_per_key(*store) == std::map<std::string, std::int64_t>{{"k1/A256GCM", 10000}});

  std::mutex mutex;
  std::map<std::int64_t, std::string> last_password;  // acknowledged writes only
  std::atomic<bool> done{false};
  std::atomic<int> edits{0}, edit_errors{0};
  std::thread editor([&] {
    std::mt19937 rng(42);
    while (!done) {
      const auto id = ids[rng() % ids.size()];
      const std::string password = "edited-" + std::to_string(edits.load());
      try {
        datahub::ConnectionPatch p;
        p.details.set("password", password);
        store->force_update(id, p, "editor");
        std::lock_guard<std::mutex> lock(mutex);
        last_password[id] = password;
        ++edits;
      } catch (...) {
        ++edit_errors;
      }
    }
  });
  datahub::RotateOptions options;
  options.batch_size = 200;
  SUBCASE("one worker") { options.workers = 1; }
  SUBCASE("three workers") { options.workers = 3; }
  auto report = store->rotate(options);
  done = true;
  editor.join();

  CHECK(edit_errors == 0);
  CHECK(edits > 0);
  CHECK(report.scanned > 0);
  CHECK(report.failed == 0);
  CHECK(report.rewritten + edits >= 10000 - report.skipped_changed);
  if (report.skipped_changed > 0) report = store->rotate(options);  // documented: run again
  CHECK(test::rows_per_key(*store) == std::map<std::string, std::int64_t>{{"k2/A256GCM", 10000}});

  // With k1 gone, every row opens, and every acknowledged edit is there.
  auto k2_only = test::open_store(test::keyring("k2", {"k2"}));
  const auto verified = k2_only->verify();
  CHECK(verified.checked == 10000);
  CHECK(verified.failed.empty());
  for (std::size_t i = 0; i < ids.size(); i += 1) {
    const auto it = last_password.find(ids[i]);
    const std::string expected = it == last_password.end() ? "initial-" + std::to_string(i) : it->second;
    if (i % 50 == 0 || it != last_password.end()) {  // every edited row, and a sample of the rest
      const auto c = k2_only->get(ids[i], datahub::Secrets::reveal);
      REQUIRE(c.details.find_string("password"));
      CHECK(*c.details.find_string("password") == expected);
    }
  }
}

TEST_CASE("rotation with several workers: every row once, progress on the calling thread") {
  auto store = rows_under_k1(3000);
  datahub::RotateOptions options;
  options.batch_size = 100;
  options.workers = 3;
  const auto caller = std::this_thread::get_id();
  std::vector<datahub::RotateReport> seen;
  bool all_on_caller = true;
  options.progress = [&](const datahub::RotateReport& r) {
    all_on_caller = all_on_caller && std::this_thread::get_id() == caller;
    seen.push_back(r);
  };
  const auto report = store->rotate(options);
  CHECK(report.remaining_estimate == 3000);
  CHECK(report.scanned == 3000);  // no batch read twice, none skipped
  CHECK(report.rewritten == 3000);
  CHECK(report.failed == 0);
  CHECK(all_on_caller);
  REQUIRE_FALSE(seen.empty());
  for (std::size_t i = 1; i < seen.size(); ++i) CHECK(seen[i].scanned > seen[i - 1].scanned);
  CHECK(seen.back().scanned == report.scanned);  // the last call has the final totals
  CHECK(test::rows_per_key(*store) == std::map<std::string, std::int64_t>{{"k2/A256GCM", 3000}});

  options.progress = nullptr;
  options.workers = 0;
  CHECK_THROWS_AS(store->rotate(options), datahub::InvalidArgument);
  options.workers = 17;
  CHECK_THROWS_AS(store->rotate(options), datahub::InvalidArgument);
}

TEST_CASE("a rotation with workers stopped by its progress callback counts every batch, and finishes when rerun") {
  auto store = rows_under_k1(2000);
  datahub::RotateOptions options;
  options.batch_size = 10;
  options.workers = 2;
  int calls = 0;
  datahub::RotateReport last;
  options.progress = [&](const datahub::RotateReport& so_far) {
    last = so_far;
    if (++calls > 1) throw std::logic_error("thrown again: ignored");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the other worker goes on
    throw Stop{};
  };
  CHECK_THROWS_AS(store->rotate(options), Stop);
  const auto after_stop = test::rows_per_key(*store);
  CHECK(after_stop.at("k2/A256GCM") > 10);   // the batches written stay written, both workers'
  CHECK(after_stop.at("k1/A256GCM") > 0);    // and the rest was not started
  CHECK(calls == 2);                         // once more after the stop, with the final totals
  CHECK(last.rewritten == after_stop.at("k2/A256GCM"));
  options.progress = nullptr;
  const auto report = store->rotate(options);
  CHECK(report.rewritten == after_stop.at("k1/A256GCM"));
  CHECK(test::rows_per_key(*store) == std::map<std::string, std::int64_t>{{"k2/A256GCM", 2000}});
}

TEST_CASE("a rotation stopped midway, by an exception or a killed process, finishes when rerun") {
  auto store = rows_under_k1(2000);

  datahub::RotateOptions options;
  options.batch_size = 100;
  int batches = 0;
  options.progress = [&](const datahub::RotateReport&) {
    if (++batches == 3) throw Stop{};
  };
  CHECK_THROWS_AS(store->rotate(options), Stop);
  auto split = test::rows_per_key(*store);
  CHECK(split["k2/A256GCM"] == 300);
  CHECK(split["k1/A256GCM"] == 1700);

  const pid_t child = fork();
  if (child == 0) {
    // A fresh store of its own (the parent's sessions are not ours), killed mid-run.
    auto doomed = test::open_store(test::keyring("k2", {"k1", "k2"}));
    datahub::RotateOptions o;
    o.batch_size = 100;
    int n = 0;
    o.progress = [&](const datahub::RotateReport&) {
      if (++n == 4) ::kill(::getpid(), SIGKILL);
    };
    doomed->rotate(o);
    ::_exit(0);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  REQUIRE(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGKILL);
  split = test::rows_per_key(*store);
  CHECK(split["k2/A256GCM"] == 700);

  options.progress = nullptr;
  const auto report = store->rotate(options);
  CHECK(report.rewritten == 1300);
  CHECK(report.remaining_estimate == 1300);
  CHECK(test::rows_per_key(*store) == std::map<std::string, std::int64_t>{{"k2/A256GCM", 2000}});
  const auto verified = test::open_store(test::keyring("k2", {"k2"}))->verify();
  CHECK(verified.checked == 2000);
  CHECK(verified.failed.empty());
}

TEST_CASE("a re-wrap is a HOT update: it writes no index entry") {
  const OwnTable own("keys_test_hot_update");
  own.open(test::keyring("k1", {"k1"}))->create_many(test::samples("in place ", 40), "tester");
  const TableStats added = own.added_by(40, [&] {
    CHECK(own.open(test::keyring("k2", {"k1", "k2"}))->rotate().rewritten == 40);
  });
  // Non-HOT (an index reading connection_details, or no room on the page), each update would
  // put new entries into every index, the GIN one on tags included (migration 4).
  CHECK(added.hot_updates == 40);
  auto k2_only = own.open(test::keyring("k2", {"k2"}));
  CHECK(test::rows_per_key(*k2_only) == std::map<std::string, std::int64_t>{{"k2/A256GCM", 40}});
  CHECK(k2_only->verify().failed.empty());
}

TEST_CASE("rotation steps over a gap of ids in one go") {
  const OwnTable own("keys_test_id_gap");
  auto old_store = own.open(test::keyring("k1", {"k1"}));
  old_store->create_many(test::samples("below the gap ", 3), "tester");
  // 100,000 ids with no row: taken one batch of one id at a time, each a query.
  test::admin() << "SELECT setval(pg_get_serial_sequence('" + own.table() + "', 'id'), (SELECT max(id) FROM " +
                       own.table() + ") + 100000)";
  old_store->create_many(test::samples("above the gap ", 3), "tester");
  datahub::RotateOptions options;
  options.batch_size = 1;
  SUBCASE("one worker") { options.workers = 1; }
  SUBCASE("two workers") { options.workers = 2; }
  const TableStats added = own.added_by(6, [&] {
    CHECK(own.open(test::keyring("k2", {"k1", "k2"}))->rotate(options).rewritten == 6);
  });
  CAPTURE(added.index_scans);
  CHECK(added.index_scans < 1000);  // a few per row, not one per missing id
  CHECK(test::rows_per_key(*old_store) == std::map<std::string, std::int64_t>{{"k2/A256GCM", 6}});
}

TEST_CASE("dry run changes nothing; reencrypt moves rows to another cipher") {
  auto store = rows_under_k1(50, "XC20P");
  datahub::RotateOptions options;
  options.dry_run = true;
  const auto dry = store->rotate(options);
  CHECK(dry.scanned == 50);
  CHECK(dry.rewritten == 50);
  CHECK(test::rows_per_key(*store) == std::map<std::string, std::int64_t>{{"k1/A256GCM", 50}});

  options.dry_run = false;
  options.reencrypt = true;
  CHECK(store->rotate(options).rewritten == 50);
  CHECK(test::rows_per_key(*store) == std::map<std::string, std::int64_t>{{"k2/XC20P", 50}});
  CHECK(store->verify().failed.empty());
  CHECK(store->rotate(options).scanned == 0);  // nothing left to do
}

TEST_CASE("a row whose key is gone: get fails, list keeps the page, verify names it") {
  test::clear_table();
  auto old_store = test::open_store(test::keyring("retired", {"retired"}));
  const auto orphan = old_store->create(test::sample("orphan"), "tester");
  auto store = test::open_store(test::keyring("k2", {"k2"}));
  const auto fine = store->create(test::sample("fine"), "tester");

  CHECK_THROWS_AS(store->get(orphan.id), datahub::KeyUnavailable);
  const auto page = store->list({});
  REQUIRE(page.items.size() == 2);
  REQUIRE(page.items[0].error);
  CHECK(page.items[0].error->code == datahub::ErrorCode::key_unavailable);
  CHECK(page.items[0].key_id == "retired");  // which key it needs
  CHECK(page.items[0].alg == "A256GCM");
  CHECK(page.items[0].stale);
  CHECK_FALSE(page.items[1].error);
  const auto report = store->verify();
  CHECK(report.checked == 2);
  REQUIRE(report.failed.size() == 1);
  CHECK(report.failed[0].id == orphan.id);
  CHECK(report.failed[0].code == datahub::ErrorCode::key_unavailable);
  const auto rotation = store->rotate();
  CHECK(rotation.failed == 1);
  CHECK(rotation.rewritten == 0);
  (void)fine;
}

TEST_CASE("rotation by three workers while others update, delete, create and create_many, under both keys, loses nothing") {
  // Writers of two instances: one already on k2, one still sealing under k1 (runbook step 2
  // not yet done there; it knows k2 to read). Updates with the optimistic check and forced,
  // deletes, creates and create_many. Afterwards every acknowledged write is the row's
  // state (per row, the one with the greatest updated_at), deleted rows stay deleted, and a
  // rerun leaves only k2, every row opening without k1.
  test::clear_table();
  const auto initial = test::populate(test::keyring("k1", {"k1"}), 2000);
  auto fresh = test::open_store(test::keyring("k2", {"k1", "k2"}));
  auto old = test::open_store(test::keyring("k1", {"k1", "k2"}));

  struct Ack {
    datahub::Timestamp at{};
    std::string password;
  };
  std::mutex mutex;
  std::map<std::int64_t, Ack> last;  // acknowledged writes: the latest per row
  std::set<std::int64_t> deleted;
  auto acknowledge = [&](const datahub::Connection& c, const std::string& password) {
    std::lock_guard<std::mutex> lock(mutex);
    auto& a = last[c.id];
    if (a.at <= c.updated_at) a = {c.updated_at, password};
  };
  std::atomic<bool> stop{false};
  std::atomic<int> writes{0}, unexpected{0};
  std::vector<std::thread> writers;
  for (int w = 0; w < 4; ++w) {
    writers.emplace_back([&, w] {
      std::mt19937 rng(static_cast<unsigned>(w) + 7);
      datahub::ConnectionStore& via = w % 2 ? *old : *fresh;
      for (int i = 0; !stop; ++i) {
        const std::string password = "w" + std::to_string(w) + "-" + std::to_string(i);
        const auto id = initial[rng() % initial.size()];
        try {
          if (w == 3 && i % 4 == 0) {  // deletes a few rows
            via.remove(id);
            std::lock_guard<std::mutex> lock(mutex);
            deleted.insert(id);
          } else if (w >= 2 && i % 4 == 1) {  // creates, alone or 20 at once
            auto batch = test::samples("new " + password + " ", w == 2 ? 1 : 20);
            for (auto& n : batch) n.details.set("password", password);
            for (const auto& c : via.create_many(batch, "writer")) acknowledge(c, password);
          } else {
            datahub::ConnectionPatch p;
            p.details.set("password", password);
            const auto read = via.get(id);
            acknowledge(i % 2 ? via.update(id, p, "writer", read.updated_at) : via.force_update(id, p, "writer"),
                        password);
          }
          ++writes;
        } catch (const datahub::NotFound&) {
        } catch (const datahub::Conflict&) {
        } catch (const std::exception& e) {
          ++unexpected;
          MESSAGE(e.what());
        }
      }
    });
  }
  datahub::RotateOptions options;
  options.batch_size = 20;
  options.workers = 3;
  int writes_during = 0;
  const auto report = fresh->rotate(options);
  writes_during = writes.load();
  stop = true;
  for (auto& t : writers) t.join();
  CHECK(unexpected == 0);
  CHECK(writes_during > 0);
  CHECK(report.failed == 0);
  MESSAGE("rotated " << report.rewritten << " with " << writes_during << " writes meanwhile, skipped "
                     << report.skipped_changed);
  // The old instance sealed some rows under k1 behind the cursor: run again, as documented.
  for (int run = 0; run < 3 && test::rows_per_key(*fresh).count("k1/A256GCM"); ++run) {
    const auto again = fresh->rotate(options);
    CHECK(again.failed == 0);
  }
  const auto census = test::rows_per_key(*fresh);
  REQUIRE(census.size() == 1);
  CHECK(census.begin()->first == "k2/A256GCM");

  auto k2_only = test::open_store(test::keyring("k2", {"k2"}));
  const auto verified = k2_only->verify();
  CHECK(verified.failed.empty());
  CHECK(verified.checked == test::row_count());
  for (auto id : deleted) CHECK_THROWS_AS(k2_only->get(id), datahub::NotFound);
  std::set<std::int64_t> present;
  k2_only->for_each({}, [&](const datahub::Connection& c) {
    present.insert(c.id);
    return true;
  });
  for (std::size_t i = 0; i < initial.size(); ++i) {
    const auto id = initial[i];
    if (deleted.count(id)) continue;
    CAPTURE(id);
    REQUIRE(present.count(id));
    const auto it = last.find(id);
    const auto c = k2_only->get(id, datahub::Secrets::reveal);
    CHECK(*c.details.find_string("password") == (it == last.end() ? "initial-" + std::to_string(i) : it->second.password));
    if (it != last.end()) CHECK(c.updated_at == it->second.at);
  }
  for (const auto& [id, ack] : last) {  // created rows too
    if (deleted.count(id) || !present.count(id)) continue;
    CHECK(*k2_only->get(id, datahub::Secrets::reveal).details.find_string("password") == ack.password);
  }
}
