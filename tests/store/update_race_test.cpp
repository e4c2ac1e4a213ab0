// update() reads the row without a lock, calls the key provider, and writes only if the
// row is still the version read (its xmin and updated_at); otherwise it tries again (under
// FOR UPDATE after three tries). These
// tests race it against other updates, remove, restore, rotate and other clients' writes,
// with a key provider slow enough that the others land between its read and its write.
#include "common/restore_record.hpp"
#include "store/support.hpp"

#include <doctest/doctest.h>
#include <soci/postgresql/soci-postgresql.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;

// Enough sessions that no thread of a test waits for one: the races are on the row.
std::unique_ptr<datahub::ConnectionStore> open_pooled_store(std::shared_ptr<const datahub::KeyProvider> keys) {
  datahub::StoreOptions options;
  options.database = test::database();
  options.pool_size = 10;
  options.keys = std::move(keys);
  return std::make_unique<datahub::ConnectionStore>(options);
}

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

datahub::ConnectionPatch set_detail(const std::string& field, const std::string& value) {
  datahub::ConnectionPatch p;
  p.details.set(field, value);
  return p;
}

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
  auto updater = open_pooled_store(provider);
  const auto patch = set_detail("application_name", "set-by-update");

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
    CHECK(provider->wraps == 2);
  }
  SUBCASE("a write that changes nothing still moves xmin: sealed again, and written") {
    provider->during_first_wrap = [&] {
      test::admin() << "UPDATE database_connections SET name = name WHERE id = " + id;
    };
    CHECK(updater->update(row.id, patch, "updater", row.updated_at).updated_by == "updater");
    CHECK(provider->wraps == 2);
  }
  // xmin must not move without a write: else an update would seal twice for nothing.
  SUBCASE("VACUUM FREEZE keeps xmin: written at the first try") {
    provider->during_first_wrap = [&] { test::admin() << "VACUUM (FREEZE) database_connections"; };
    CHECK(updater->update(row.id, patch, "updater", row.updated_at).updated_by == "updater");
    CHECK(provider->wraps == 1);
  }
  SUBCASE("VACUUM FULL keeps xmin: written at the first try") {
    provider->during_first_wrap = [&] { test::admin() << "VACUUM FULL database_connections"; };
    CHECK(updater->update(row.id, patch, "updater", row.updated_at).updated_by == "updater");
    CHECK(provider->wraps == 1);
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
  SUBCASE("an uncommitted write the UPDATE waits for, then committed: kept, the update sealed again") {
    const auto read = held_write(true);
    CHECK(read.description == std::optional<std::string>("held write"));
    CHECK(provider->wraps == 2);
  }
  SUBCASE("an uncommitted write the UPDATE waits for, then rolled back: written at the first try") {
    const auto read = held_write(false);
    CHECK(read.description == row.description);
    CHECK(provider->wraps == 1);
  }
}

TEST_CASE("update race: a rotation moves the row to the new key between update's read and its write") {
  // The update read the row under k1; a 2-worker rotation moves it to k2 before the update
  // writes. The write must not put the k1 envelope back, and expected_updated_at stays
  // valid: a rotation is not an edit.
  auto run = [](bool reencrypt) {
    test::clear_table();
    const auto row =
        test::open_store(test::keyring("k1", {"k1"}))->create(test::sample("rotated under update", "pw"), "creator");
    auto provider = std::make_shared<test::WrapWatcher>(test::keyring("k2", {"k1", "k2"}), 0ms);
    auto updater = open_pooled_store(provider);
    auto rotator = open_pooled_store(test::keyring("k2", {"k1", "k2"}));
    datahub::RotateOptions options;
    options.workers = 2;
    options.reencrypt = reencrypt;
    datahub::RotateReport report;
    provider->during_first_wrap = [&] { report = rotator->rotate(options); };

    datahub::Connection updated;
    // A name-only patch writes the envelope as read unless the row needs re-sealing: this
    // one is under k1, so it is re-sealed, and the rotation lands inside that seal.
    SUBCASE("name only") {
      datahub::ConnectionPatch p;
      p.name = "renamed";
      updated = updater->update(row.id, p, "updater", row.updated_at);
      CHECK(updated.name == "renamed");
      CHECK(provider->wraps == 1);  // on the next try the row needs no re-seal: it is under k2
    }
    SUBCASE("a detail") {
      updated = updater->update(row.id, set_detail("password", "set-by-update"), "updater", row.updated_at);
      CHECK(provider->wraps == 2);  // sealed again after the rotation moved the row
    }
    CHECK(report.rewritten == 1);
    auto k2_only = test::open_store(test::keyring("k2", {"k2"}));
    const auto read = k2_only->get(row.id, datahub::Secrets::reveal);
    CHECK(read.key_id == "k2");
    CHECK(read.updated_by == "updater");
    CHECK(read.name == updated.name);
    CHECK(k2_only->get(row.id).details == updated.details);  // what update returns is redacted
    CHECK(*read.details.find_string("password") == (updated.name == "renamed" ? "pw" : "set-by-update"));
    CHECK(read.updated_at == updated.updated_at);
    CHECK(k2_only->verify().failed.empty());
  };
  SUBCASE("re-wrap") { run(false); }
  SUBCASE("re-encrypt") { run(true); }
}

TEST_CASE("update race: updates with expected_updated_at during a 2-worker rotation: no Conflict, every update kept") {
  // Two threads update rows just ahead of where the rotation is (its progress tells), each
  // its own rows, each with the updated_at its last update of the row returned. Only the
  // rotation writes those rows besides them, and a rotation is not an edit: a Conflict is a
  // defect.
  test::clear_table();
  constexpr int kRows = 600;
  std::vector<std::int64_t> ids;
  std::map<std::int64_t, datahub::Timestamp> versions;  // all keys inserted before the threads start
  for (const auto& c :
       test::open_store(test::keyring("k1", {"k1"}))->create_many(test::samples("r", kRows), "creator")) {
    ids.push_back(c.id);
    versions[c.id] = c.updated_at;
  }
  auto slow = std::make_shared<test::WrapWatcher>(test::keyring("k2", {"k1", "k2"}), 2ms);
  auto updater = open_pooled_store(slow);
  auto rotator = open_pooled_store(std::make_shared<test::WrapWatcher>(test::keyring("k2", {"k1", "k2"}), 1ms));

  std::atomic<std::int64_t> frontier{0};  // rows the rotation has looked at
  std::atomic<bool> done{false};
  std::atomic<int> updates{0}, conflicts{0}, other_errors{0};
  std::mutex mutex;
  std::map<std::int64_t, std::string> last_password;  // acknowledged only
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(static_cast<unsigned>(t + 1));
      for (int i = 0; !done; ++i) {
        // A row of this thread's parity, up to 30 ahead of the rotation.
        std::size_t at = std::min(static_cast<std::size_t>(frontier.load()) + rng() % 30, ids.size() - 1);
        if (at % 2 != static_cast<std::size_t>(t)) at = at == 0 ? 1 : at - 1;
        const auto id = ids[at];
        const std::string password = "t" + std::to_string(t) + "-" + std::to_string(i);
        datahub::Timestamp expected;
        {
          std::lock_guard<std::mutex> lock(mutex);
          expected = versions.at(id);
        }
        try {
          const auto c = updater->update(id, set_detail("password", password), "updater", expected);
          std::lock_guard<std::mutex> lock(mutex);
          versions[id] = c.updated_at;
          last_password[id] = password;
          ++updates;
          if (c.key_id != "k2") ++other_errors;
        } catch (const datahub::Conflict&) {
          ++conflicts;
        } catch (...) {
          ++other_errors;
        }
      }
    });
  }
  datahub::RotateOptions options;
  options.workers = 2;
  options.batch_size = 10;
  options.progress = [&](const datahub::RotateReport& r) { frontier = r.scanned; };
  auto report = rotator->rotate(options);
  done = true;
  for (auto& t : threads) t.join();

  CHECK(conflicts == 0);
  CHECK(other_errors == 0);
  CHECK(updates > 0);  // how many land on rows the rotation is at depends on timing
  CHECK(report.failed == 0);
  // Wraps beyond one per update: updates whose row the rotation moved in between.
  MESSAGE("updates: " << updates.load() << " (sealed " << slow->wraps.load() << " times), rotation rewrote " << report.rewritten << ", skipped "
                      << report.skipped_changed);
  if (report.skipped_changed > 0) rotator->rotate(options);  // documented: run again
  const auto census = rotator->census();
  REQUIRE(census.keys.size() == 1);
  CHECK(census.keys.front().key_id == "k2");

  auto k2_only = test::open_store(test::keyring("k2", {"k2"}));
  CHECK(k2_only->verify().failed.empty());
  for (const auto& [id, password] : last_password) {
    CAPTURE(id);
    const auto c = k2_only->get(id, datahub::Secrets::reveal);
    CHECK(*c.details.find_string("password") == password);
    CHECK(c.updated_at == versions.at(id));
  }
}
