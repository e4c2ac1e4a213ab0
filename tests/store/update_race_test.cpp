// update() reads the row without a lock, calls the key provider, and writes only if the
// row is still the version read (its xmin and updated_at); otherwise it tries again (under
// FOR UPDATE after three tries). These tests race it against other updates, remove,
// restore and other clients' writes, with a key provider slow enough that the others land
// between its read and its write. The races with a rotation are in
// update_rotation_race_test.cpp.
#include "common/restore_record.hpp"
#include "store/update_race.hpp"

#include <doctest/doctest.h>
#include <soci/postgresql/soci-postgresql.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using test::open_pooled_store;
using test::set_detail;

// Lets threads go at once, so that their reads of the row land together.
class StartGate {
 public:
  explicit StartGate(int parties) : waiting_(parties) {}
  void arrive_and_wait() {
    std::unique_lock<std::mutex> lock(mutex_);
    if (--waiting_ == 0) open_.notify_all();
    open_.wait(lock, [&] { return waiting_ <= 0; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable open_;
  int waiting_;
};

}  // namespace

TEST_CASE("update race: force_updates of disjoint fields of one row from 6 threads at once keep every field") {
  // Each thread owns one field and sets it 5 times. A merge onto a version other than the
  // one written over would drop another thread's last value.
  test::clear_table();
  auto provider = std::make_shared<test::WrapWatcher>(test::keyring(), 10ms);
  auto store = open_pooled_store(provider);
  const auto row = store->create(test::sample("disjoint fields"), "creator");

  const std::vector<std::string> fields{"host", "database", "username", "password", "application_name"};
  const int threads = static_cast<int>(fields.size()) + 1;  // the last one sets connect_timeout
  constexpr int kRounds = 5;
  auto value = [](int t, int r) { return "t" + std::to_string(t) + "-r" + std::to_string(r); };

  std::mutex mutex;
  std::vector<datahub::Connection> acknowledged;
  std::vector<std::string> errors;
  StartGate gate(threads);
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      gate.arrive_and_wait();
      for (int r = 0; r < kRounds; ++r) {
        datahub::ConnectionPatch p;
        if (t < static_cast<int>(fields.size())) {
          p = set_detail(fields[static_cast<std::size_t>(t)], value(t, r));
        } else {
          p.details.set("connect_timeout", std::int64_t{100 + r});
        }
        try {
          auto c = store->force_update(row.id, p, "thread-" + std::to_string(t));
          std::lock_guard<std::mutex> lock(mutex);
          acknowledged.push_back(std::move(c));
        } catch (const std::exception& e) {
          std::lock_guard<std::mutex> lock(mutex);
          errors.push_back(e.what());
        }
      }
    });
  }
  for (auto& w : workers) w.join();

  CHECK(errors.empty());
  for (const auto& e : errors) MESSAGE(e);
  REQUIRE(acknowledged.size() == static_cast<std::size_t>(threads * kRounds));
  const auto read = store->get(row.id, datahub::Secrets::reveal);
  for (std::size_t t = 0; t < fields.size(); ++t) {
    CAPTURE(fields[t]);
    REQUIRE(read.details.find_string(fields[t]));
    CHECK(*read.details.find_string(fields[t]) == value(static_cast<int>(t), kRounds - 1));
  }
  REQUIRE(read.details.find_integer("connect_timeout"));
  CHECK(*read.details.find_integer("connect_timeout") == 100 + kRounds - 1);

  // Every acknowledged update wrote (each moved updated_at to a time of its own), and the
  // row is the last one's: nothing reported as written was skipped or written over.
  std::set<datahub::Timestamp> times;
  const datahub::Connection* last = &acknowledged.front();
  for (const auto& c : acknowledged) {
    times.insert(c.updated_at);
    if (c.updated_at > last->updated_at) last = &c;
  }
  CHECK(times.size() == acknowledged.size());
  CHECK(read.updated_at == last->updated_at);
  CHECK(read.updated_by == last->updated_by);
  CHECK(store->get(row.id).details == last->details);  // what update returns is redacted
  // Some updates lost the race and sealed again; none more than four times (three tries
  // without the lock, one under it).
  CHECK(provider->wraps > threads * kRounds);
  CHECK(provider->wraps <= 4 * threads * kRounds);
}

TEST_CASE("update race: a row another writer changes at every try is updated under the row lock at the fourth") {
  // Inside each of the first three wraps another client edits the row, so each unlocked
  // try finds it changed. The fourth try holds the row lock (another session's NOWAIT
  // fails) and writes; every edit is kept.
  test::clear_table();
  auto other = test::open_store(test::keyring());
  const auto row = other->create(test::sample("busy row"), "creator");
  auto provider = std::make_shared<test::WrapWatcher>(test::keyring());
  // One edit per unlocked try, each of another field.
  const std::vector<std::pair<std::string, std::string>> edits{
      {"host", "edited-host"}, {"application_name", "edited_app"}, {"sslmode", "require"}};
  std::vector<bool> row_was_free;
  provider->during_wrap = [&](int wrap) {
    row_was_free.push_back(test::row_lock_free(row.id));
    // Locked, an edit would wait for the update that waits for it.
    if (!row_was_free.back() || wrap > static_cast<int>(edits.size())) return;
    const auto& [field, value] = edits[static_cast<std::size_t>(wrap - 1)];
    other->force_update(row.id, set_detail(field, value), "other");
  };
  auto updater = test::open_store(provider);
  const auto updated = updater->force_update(row.id, set_detail("password", "set-by-update"), "updater");
  CHECK(row_was_free == std::vector<bool>{true, true, true, false});
  const auto read = other->get(row.id, datahub::Secrets::reveal);
  CHECK(*read.details.find_string("password") == "set-by-update");
  for (const auto& [field, value] : edits) {
    REQUIRE(read.details.find_string(field));
    CHECK(*read.details.find_string(field) == value);
  }
  CHECK(read.updated_by == "updater");
  CHECK(updated.updated_at == read.updated_at);
}

TEST_CASE("update race: updates with the same expected_updated_at from 5 threads: one wins each round, the rest Conflict") {
  test::clear_table();
  auto store = open_pooled_store(std::make_shared<test::WrapWatcher>(test::keyring(), 10ms));
  auto current = store->create(test::sample("one winner"), "creator");
  constexpr int kThreads = 5;

  for (int round = 0; round < 8; ++round) {
    CAPTURE(round);
    const datahub::Timestamp expected = current.updated_at;
    std::atomic<int> conflicts{0}, other_errors{0};
    std::mutex mutex;
    std::vector<datahub::Connection> winners;
    StartGate gate(kThreads);
    std::vector<std::thread> workers;
    for (int t = 0; t < kThreads; ++t) {
      workers.emplace_back([&, t] {
        const std::string actor = "round" + std::to_string(round) + "-thread" + std::to_string(t);
        gate.arrive_and_wait();
        try {
          auto c = store->update(current.id, set_detail("application_name", actor), actor, expected);
          std::lock_guard<std::mutex> lock(mutex);
          winners.push_back(std::move(c));
        } catch (const datahub::Conflict&) {
          ++conflicts;
        } catch (...) {
          ++other_errors;
        }
      });
    }
    for (auto& w : workers) w.join();
    REQUIRE(winners.size() == 1);
    CHECK(conflicts == kThreads - 1);
    CHECK(other_errors == 0);
    const auto read = store->get(current.id, datahub::Secrets::reveal);
    CHECK(read.updated_by == winners.front().updated_by);
    CHECK(read.updated_at == winners.front().updated_at);
    CHECK(*read.details.find_string("application_name") == winners.front().updated_by);
    CHECK(read.updated_at > expected);
    current = read;
  }
}

TEST_CASE("update race: update against remove is NotFound or written before the remove, and the row stays removed") {
  test::clear_table();
  auto provider = std::make_shared<test::WrapWatcher>(test::keyring(), 8ms);
  auto updater = open_pooled_store(provider);
  auto& remover = test::store();
  std::mt19937 rng(7);
  int written = 0, not_found = 0;
  for (int round = 0; round < 20; ++round) {
    CAPTURE(round);
    const auto row = remover.create(test::sample("removed while updated"), "creator");
    const auto delay = std::chrono::microseconds(rng() % 16000);
    std::string update_outcome, remove_outcome = "ok";
    std::thread update_thread([&] {
      try {
        updater->force_update(row.id, set_detail("password", "after-remove?"), "updater");
        update_outcome = "written";
      } catch (const datahub::NotFound&) {
        update_outcome = "not found";
      } catch (const std::exception& e) {
        update_outcome = e.what();
      }
    });
    std::this_thread::sleep_for(delay);
    try {
      remover.remove(row.id);  // nobody else removes it: it is there to remove
    } catch (const std::exception& e) {
      remove_outcome = e.what();
    }
    update_thread.join();
    CHECK(remove_outcome == "ok");
    CHECK((update_outcome == "written" || update_outcome == "not found"));
    written += update_outcome == "written";
    not_found += update_outcome == "not found";
    // An update never brings a removed row back.
    CHECK(test::stored(row.id, "count(*)") == "0");
  }
  CHECK(test::row_count() == 0);
  MESSAGE("written before the remove: " << written << ", NotFound: " << not_found);
}

TEST_CASE("update race: the row removed, or removed and restored, between update's read and its write") {
  test::clear_table();
  auto& other = test::store();
  const auto row = other.create(test::sample("replaced under update", "original"), "creator");
  auto provider = std::make_shared<test::WrapWatcher>(test::keyring(), 0ms);
  auto updater = open_pooled_store(provider);
  datahub::ConnectionPatch patch = set_detail("application_name", "set-by-update");

  SUBCASE("removed: NotFound, and no row comes back") {
    provider->during_first_wrap = [&] { other.remove(row.id); };
    CHECK_THROWS_AS(updater->force_update(row.id, patch, "updater"), datahub::NotFound);
    CHECK(test::row_count() == 0);
  }
  // restore() may put a row back under the same id; update then applies to that row, as
  // the last written, and never writes the removed row's contents back.
  SUBCASE("removed and restored, without a version check: the patch lands on the restored row") {
    provider->during_first_wrap = [&] {
      other.remove(row.id);
      other.restore({test::restore_record(row.id, "the restored one", "restored-password")});
    };
    const auto updated = updater->force_update(row.id, patch, "updater");
    const auto read = other.get(row.id, datahub::Secrets::reveal);
    CHECK(read.name == "the restored one");
    CHECK(*read.details.find_string("password") == "restored-password");
    CHECK(*read.details.find_string("host") == "db");
    CHECK(*read.details.find_string("application_name") == "set-by-update");
    CHECK(read.created_by == "user_01");
    CHECK(updated.name == read.name);
    CHECK(updated.details == other.get(row.id).details);  // what update returns is redacted
    CHECK(updated.updated_at == read.updated_at);
    CHECK(provider->wraps == 2);  // sealed again, on the next try
  }
  SUBCASE("removed and restored with another updated_at: Conflict, the restored row as restored") {
    provider->during_first_wrap = [&] {
      other.remove(row.id);
      other.restore({test::restore_record(row.id, "the restored one", "restored-password")});
    };
    CHECK_THROWS_AS(updater->update(row.id, patch, "updater", row.updated_at), datahub::Conflict);
    const auto read = other.get(row.id, datahub::Secrets::reveal);
    CHECK(read.name == "the restored one");
    CHECK(read.updated_by == "user_02");
    CHECK_FALSE(read.details.find_string("application_name"));
  }
}

TEST_CASE("update race: another client's writes between update's read and its write are kept") {
  test::clear_table();
  auto& other = test::store();
  const auto row = other.create(test::sample("written by another client", "original"), "creator");
  const std::string id = std::to_string(row.id);
  auto provider = std::make_shared<test::WrapWatcher>(test::keyring(), 0ms);
  test::RetryCounter tries;
  auto updater = open_pooled_store(provider, tries.callback());
  const auto patch = set_detail("application_name", "set-by-update");
  // None of these writes touches the details: a try after one writes the seal made before it.

  SUBCASE("two writes in one transaction, one in a subtransaction") {
    provider->during_first_wrap = [&] {
      soci::transaction tx(test::admin());
      test::admin() << "UPDATE database_connections SET description = 'first write' WHERE id = " + id;
      test::admin() << "SAVEPOINT s";
      test::admin() << "UPDATE database_connections SET name = 'second write' WHERE id = " + id;
      test::admin() << "RELEASE SAVEPOINT s";
      tx.commit();
    };
    const auto updated = updater->force_update(row.id, patch, "updater");
    const auto read = other.get(row.id, datahub::Secrets::reveal);
    CHECK(read.name == "second write");
    CHECK(read.description == std::optional<std::string>("first write"));
    CHECK(*read.details.find_string("application_name") == "set-by-update");
    CHECK(updated.name == "second write");
    CHECK(tries.retries() == 1);
    CHECK(provider->wraps == 1);
  }
  SUBCASE("a write that changes nothing still moves xmin: tried again, and written") {
    provider->during_first_wrap = [&] {
      test::admin() << "UPDATE database_connections SET name = name WHERE id = " + id;
    };
    CHECK(updater->update(row.id, patch, "updater", row.updated_at).updated_by == "updater");
    CHECK(tries.retries() == 1);
    CHECK(provider->wraps == 1);
  }
  // xmin must not move without a write: else an update would try again for nothing.
  SUBCASE("VACUUM FREEZE keeps xmin: written at the first try") {
    // The row is frozen once the table's relfrozenxid has passed its xmin; another
    // session's snapshot can hold that back for a moment, so a few tries.
    const auto frozen = [&] {
      int is_frozen = 0;
      test::admin() << "SELECT CASE WHEN CAST(CAST(xmin AS text) AS bigint) < (SELECT CAST(CAST(relfrozenxid "
                       "AS text) AS bigint) FROM pg_class WHERE oid = CAST('database_connections' AS regclass)) "
                       "THEN 1 ELSE 0 END FROM database_connections WHERE id = :id",
          soci::use(row.id), soci::into(is_frozen);
      return is_frozen == 1;
    };
    CHECK_FALSE(frozen());  // a row just written is not
    bool was_frozen = false;
    provider->during_first_wrap = [&] {
      for (int attempt = 0; attempt < 20 && !was_frozen; ++attempt) {
        test::admin() << "VACUUM (FREEZE) database_connections";
        was_frozen = frozen();
        if (!was_frozen) std::this_thread::sleep_for(50ms);
      }
    };
    CHECK(updater->update(row.id, patch, "updater", row.updated_at).updated_by == "updater");
    CHECK(was_frozen);  // else this subcase tested nothing
    CHECK(tries.retries() == 0);
  }
  SUBCASE("VACUUM FULL keeps xmin: written at the first try") {
    provider->during_first_wrap = [&] { test::admin() << "VACUUM FULL database_connections"; };
    CHECK(updater->update(row.id, patch, "updater", row.updated_at).updated_by == "updater");
    CHECK(tries.retries() == 0);
  }

  // Another session's write, uncommitted while update's UPDATE runs: the UPDATE waits for
  // it, then evaluates its xmin check against the row that session left.
  auto held_write = [&](bool commit) {
    std::thread holder;
    std::mutex mutex;
    std::condition_variable cv;
    bool holding = false;
    provider->during_first_wrap = [&] {
      holder = std::thread([&] {
        soci::session session(soci::postgresql, test::database());
        soci::transaction tx(session);
        session << "UPDATE database_connections SET description = 'held write' WHERE id = " + id;
        {
          std::lock_guard<std::mutex> lock(mutex);
          holding = true;
        }
        cv.notify_all();
        std::this_thread::sleep_for(300ms);  // update's UPDATE meanwhile waits for this row
        if (commit) {
          tx.commit();
        } else {
          tx.rollback();
        }
      });
      std::unique_lock<std::mutex> lock(mutex);
      // Were the row locked here, the holder would wait for it: fail rather than hang.
      const bool held = cv.wait_for(lock, 3s, [&] { return holding; });
      CHECK(held);
    };
    struct JoinOnExit {
      std::thread& thread;
      ~JoinOnExit() {
        if (thread.joinable()) thread.join();
      }
    } join_holder{holder};  // an update that throws fails the test, not std::terminate
    const auto started = std::chrono::steady_clock::now();
    const auto updated = updater->update(row.id, patch, "updater", row.updated_at);
    const auto waited = std::chrono::steady_clock::now() - started;
    holder.join();
    CHECK(waited >= 250ms);  // the UPDATE did wait for the other session
    const auto read = other.get(row.id, datahub::Secrets::reveal);
    CHECK(*read.details.find_string("application_name") == "set-by-update");
    CHECK(read.updated_at == updated.updated_at);
    CHECK(read.updated_by == "updater");
    return read;
  };
  SUBCASE("an uncommitted write the UPDATE waits for, then committed: kept, the update tried again") {
    const auto read = held_write(true);
    CHECK(read.description == std::optional<std::string>("held write"));
    CHECK(tries.retries() == 1);
    CHECK(provider->wraps == 1);
  }
  SUBCASE("an uncommitted write the UPDATE waits for, then rolled back: written at the first try") {
    const auto read = held_write(false);
    CHECK(read.description == row.description);
    CHECK(tries.retries() == 0);
  }
}
