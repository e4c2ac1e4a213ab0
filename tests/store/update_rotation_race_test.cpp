// update() against rotate(): a rotation that moves the row to the new key between
// update's read and its write, and updates racing a 2-worker rotation. Neither may lose an
// update, report a Conflict the caller did not cause, or leave a row the new key alone
// cannot open.
#include "store/update_race.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using test::open_pooled_store;
using test::set_detail;

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
