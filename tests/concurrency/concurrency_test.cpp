// Concurrency: N threads (default 8) of mixed create / get / list / update / delete on ONE
// datahub::ConnectionStore for DATAHUB_CONCURRENCY_SECONDS (default 30), contending on a
// shared pool of ids; then the table must match the log of acknowledged operations exactly.
//
// Every update replaces every column it can (name, description, tags, all details fields),
// so the expected final state of a row is exactly its last acknowledged write. Checked:
//  - the set of ids in the table == acknowledged creates - acknowledged deletes;
//  - each row (name, description, tags, revealed details, updated_at, updated_by) equals its
//    acknowledged write with the greatest updated_at;
//  - zero lost updates: per row, sorted by updated_at, every acknowledged update was made
//    against (expected_updated_at ==) the updated_at of the acknowledged write just before
//    it; so no two acknowledged updates were based on the same read;
//  - every get/list observation equals the acknowledged write with that updated_at (no torn
//    or misattributed reads), list pages carry no row errors;
//  - NotFound only for ids that were acknowledged-deleted; Conflict is counted, not an error
//    (an unacknowledged update), and must happen at least once (the threads do contend);
//  - no deadlock: a watchdog fails the run when a thread makes no progress for
//    DATAHUB_CONCURRENCY_STALL_SECONDS (default 30).
// Any other exception fails the run. Env: DATAHUB_TEST_DATABASE (required),
// DATAHUB_CONCURRENCY_THREADS (8), DATAHUB_CONCURRENCY_LOG (a file to dump the log to).
#include "pg.hpp"
#include "rotation_check.hpp"

#include <datahub/connection_type.hpp>
#include <datahub/connections.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
using datahub::Timestamp;

long env_long(const char* name, long fallback) {
  const char* v = std::getenv(name);
  if (!v || !*v) return fallback;
  char* end = nullptr;
  const long n = std::strtol(v, &end, 10);
  if (*end != '\0' || n < 1) {
    std::cerr << name << " must be a positive integer\n";
    std::exit(2);
  }
  return n;
}

std::mutex output_mutex;
std::atomic<int> failures{0};

void fail(const std::string& message) {
  std::lock_guard<std::mutex> lock(output_mutex);
  std::cerr << "FAIL: " << message << "\n";
  ++failures;
}

// What one acknowledged create or update wrote.
struct Write {
  std::int64_t id = 0;
  bool is_update = false;
  Timestamp expected{};  // updates: the updated_at they were made against
  Timestamp updated_at{};
  std::string name;
  std::optional<std::string> description;
  std::vector<std::string> tags;
  datahub::Details details;  // as sent (normalized by validate when compared)
  std::string actor;
  int thread = 0;
};

// What a get or a list item showed.
struct Observation {
  std::int64_t id = 0;
  Timestamp updated_at{};
  std::string name;
  std::optional<std::string> description;
  std::vector<std::string> tags;
  datahub::Details details;
  std::string updated_by;
  const char* via = "";
};

struct ThreadLog {
  std::vector<Write> writes;
  std::vector<std::int64_t> deletes;        // acknowledged deletes
  std::vector<std::int64_t> not_found;      // ids some call found missing
  std::vector<Observation> observations;
  long creates = 0, gets = 0, lists = 0, updates = 0, removes = 0, conflicts = 0, misses = 0;
};

// The shared id pool: ids created and not (yet, as far as we know) deleted.
class IdPool {
 public:
  void add(std::int64_t id) {
    std::lock_guard<std::mutex> lock(m_);
    ids_.push_back(id);
  }
  void drop(std::int64_t id) {
    std::lock_guard<std::mutex> lock(m_);
    ids_.erase(std::remove(ids_.begin(), ids_.end(), id), ids_.end());
  }
  std::size_t size() {
    std::lock_guard<std::mutex> lock(m_);
    return ids_.size();
  }
  // A random id; with probability 1/2 one of the few oldest ("hot") ones, for contention.
  std::optional<std::int64_t> pick(std::mt19937_64& rng) {
    std::lock_guard<std::mutex> lock(m_);
    if (ids_.empty()) return std::nullopt;
    std::size_t range = ids_.size();
    if (rng() % 2 == 0) range = std::min<std::size_t>(range, 4);
    return ids_[rng() % range];
  }

 private:
  std::mutex m_;
  std::vector<std::int64_t> ids_;
};

datahub::Details make_details(std::mt19937_64& rng, int thread, long n) {
  static const char* modes[] = {"disable", "prefer", "require", "verify-full"};
  datahub::Details d;
  d.set("host", "db-" + std::to_string(thread) + "-" + std::to_string(n) + ".example")
      .set("port", static_cast<std::int64_t>(1024 + rng() % 60000))
      .set("database", "db_" + std::to_string(rng() % 1000))
      .set("username", "user_" + std::to_string(thread))
      .set("password", "pw-" + std::to_string(rng()))
      .set("sslmode", modes[rng() % 4])
      .set("connect_timeout", static_cast<std::int64_t>(1 + rng() % 60))
      .set("application_name", "concurrency");
  return d;
}

std::vector<std::string> make_tags(std::mt19937_64& rng, int thread) {
  std::vector<std::string> tags = {"concurrency", "t" + std::to_string(thread)};
  if (rng() % 2) tags.push_back("x" + std::to_string(rng() % 5));
  return tags;
}

Observation observe(const datahub::Connection& c, const char* via) {
  return Observation{c.id, c.updated_at, c.name, c.description, c.tags, c.details, c.updated_by, via};
}

struct Shared {
  datahub::ConnectionStore* store = nullptr;
  IdPool pool;
  std::atomic<bool> stop{false};
  std::vector<std::atomic<long long>> progress;  // steady-clock ms of each thread's last op
  explicit Shared(std::size_t threads) : progress(threads) {}
};

long long now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch()).count();
}

void worker(Shared& shared, int index, ThreadLog& log) {
  std::mt19937_64 rng(0x5eed0000u + static_cast<unsigned>(index) * 7919u +
                      static_cast<unsigned>(std::random_device{}()));
  datahub::ConnectionStore& store = *shared.store;
  const std::string actor = "thread_" + std::to_string(index);
  long n = 0;
  while (!shared.stop.load()) {
    shared.progress[static_cast<std::size_t>(index)].store(now_ms());
    ++n;
    unsigned dice = static_cast<unsigned>(rng() % 100);
    const std::size_t pool_size = shared.pool.size();
    if (pool_size < 8 && dice >= 20) dice = 0;                    // too few rows: create
    if (pool_size > 48 && dice < 20) dice = 95;                   // too many: delete
    std::optional<std::int64_t> id;
    try {
      if (dice < 20) {  // create
        datahub::NewConnection c;
        c.name = "c-" + actor + "-" + std::to_string(n);
        if (rng() % 2) c.description = "created by " + actor;
        c.details = make_details(rng, index, n);
        c.tags = make_tags(rng, index);
        const datahub::Connection stored = store.create(c, actor);
        Write w;
        w.id = stored.id;
        w.updated_at = stored.updated_at;
        w.name = c.name;
        w.description = c.description;
        w.tags = c.tags;
        w.details = c.details;
        w.actor = actor;
        w.thread = index;
        log.writes.push_back(std::move(w));
        ++log.creates;
        shared.pool.add(stored.id);
      } else if (dice < 45) {  // get
        if (!(id = shared.pool.pick(rng))) continue;
        log.observations.push_back(observe(store.get(*id, datahub::Secrets::reveal), "get"));
        ++log.gets;
      } else if (dice < 55) {  // list: the first two pages of a filter
        datahub::ListQuery q;
        q.tags_any = {"x" + std::to_string(rng() % 5), "t" + std::to_string(rng() % 8)};
        q.limit = 1 + static_cast<int>(rng() % 20);
        for (int page = 0; page < 2; ++page) {
          const datahub::Page p = store.list(q, datahub::Secrets::reveal);
          for (const auto& item : p.items) {
            if (item.error) {
              fail("list: row " + std::to_string(item.id) + " came back with an error: " +
                   item.error->message);
            } else {
              log.observations.push_back(observe(item, "list"));
            }
          }
          if (!p.next_after_id) break;
          q.after_id = *p.next_after_id;
        }
        ++log.lists;
      } else if (dice < 90) {  // update: read, then write against what was read
        if (!(id = shared.pool.pick(rng))) continue;
        const datahub::Connection read = store.get(*id, datahub::Secrets::reveal);
        log.observations.push_back(observe(read, "get"));
        if (rng() % 4 == 0) std::this_thread::sleep_for(std::chrono::microseconds(rng() % 2000));
        datahub::ConnectionPatch patch;
        Write w;
        w.id = *id;
        w.is_update = true;
        w.expected = read.updated_at;
        w.name = "u-" + actor + "-" + std::to_string(n);
        if (rng() % 3) w.description = "updated by " + actor;
        w.tags = make_tags(rng, index);
        w.details = make_details(rng, index, n);
        w.actor = actor;
        w.thread = index;
        patch.name = w.name;
        patch.description = w.description;  // set, or cleared
        patch.tags = w.tags;
        patch.details = w.details;          // every field of the type: a full replacement
        try {
          const datahub::Connection updated = store.update(*id, patch, actor, read.updated_at);
          w.updated_at = updated.updated_at;
          log.writes.push_back(std::move(w));
          ++log.updates;
        } catch (const datahub::Conflict&) {
          ++log.conflicts;  // not acknowledged: someone wrote in between
        }
      } else {  // delete
        if (!(id = shared.pool.pick(rng))) continue;
        store.remove(*id);
        log.deletes.push_back(*id);
        ++log.removes;
        shared.pool.drop(*id);
      }
    } catch (const datahub::NotFound&) {
      ++log.misses;
      if (id) log.not_found.push_back(*id);
      if (id) shared.pool.drop(*id);
    } catch (const std::exception& e) {
      fail(actor + ": unexpected exception: " + e.what());
    }
  }
  shared.progress[static_cast<std::size_t>(index)].store(now_ms());
}

std::string describe(const Write& w) {
  std::ostringstream s;
  s << (w.is_update ? "update" : "create") << " of " << w.id << " by thread " << w.thread
    << " -> updated_at " << datahub::format_timestamp(w.updated_at);
  if (w.is_update) s << " (against " << datahub::format_timestamp(w.expected) << ")";
  return s.str();
}

// Does a read show exactly this write?
bool matches(const Observation& o, const Write& w, const datahub::ConnectionType& type) {
  return o.id == w.id && o.updated_at == w.updated_at && o.name == w.name &&
         o.description == w.description && o.tags == w.tags &&
         o.details == type.validate(w.details) && o.updated_by == w.actor;
}

void dump_log(const char* path, const std::vector<ThreadLog>& logs) {
  std::ofstream out(path);
  for (std::size_t t = 0; t < logs.size(); ++t) {
    for (const auto& w : logs[t].writes) out << "thread " << t << ": " << describe(w) << "\n";
    for (auto id : logs[t].deletes) out << "thread " << t << ": delete of " << id << "\n";
  }
}

}  // namespace

int main() {
  const char* database = std::getenv("DATAHUB_TEST_DATABASE");
  if (!database || !*database) {
    std::cerr << "DATAHUB_TEST_DATABASE is not set; run tests/run.sh\n";
    return 2;
  }
  const long seconds = env_long("DATAHUB_CONCURRENCY_SECONDS", 30);
  const long stall_seconds = env_long("DATAHUB_CONCURRENCY_STALL_SECONDS", 30);
  const std::size_t threads = static_cast<std::size_t>(env_long("DATAHUB_CONCURRENCY_THREADS", 8));

  std::vector<datahub::StaticKeyring::Key> keys;
  keys.emplace_back("conc:k1", datahub::SecretBytes(32, 0x42));
  datahub::StoreOptions options;
  options.database = database;
  options.pool_size = 4;  // fewer sessions than threads: the pool is contended too
  options.keys = std::make_shared<datahub::StaticKeyring>("conc:k1", std::move(keys));
  datahub::ConnectionStore store(options);
  store.migrate();
  Pg pg(database);
  pg.query("DELETE FROM database_connections");

  Shared shared(threads);
  shared.store = &store;
  for (auto& p : shared.progress) p.store(now_ms());
  std::vector<ThreadLog> logs(threads);

  // Watchdog: a thread without progress for stall_seconds is a deadlock (or a hang).
  std::mutex watchdog_mutex;
  std::condition_variable watchdog_wake;
  bool finished = false;
  std::thread watchdog([&] {
    std::unique_lock<std::mutex> lock(watchdog_mutex);
    while (!watchdog_wake.wait_for(lock, std::chrono::seconds(1), [&] { return finished; })) {
      for (std::size_t t = 0; t < threads; ++t) {
        const long long idle = now_ms() - shared.progress[t].load();
        if (idle > stall_seconds * 1000) {
          std::cerr << "FAIL: watchdog: thread " << t << " made no progress for " << idle / 1000
                    << " s (deadlock?)\n";
          std::_Exit(3);
        }
      }
    }
  });

  std::cout << "concurrency: " << threads << " threads for " << seconds << " s" << std::endl;
  std::vector<std::thread> workers;
  for (std::size_t t = 0; t < threads; ++t) {
    workers.emplace_back(worker, std::ref(shared), static_cast<int>(t), std::ref(logs[t]));
  }
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  shared.stop = true;
  for (auto& w : workers) w.join();
  {
    std::lock_guard<std::mutex> lock(watchdog_mutex);
    finished = true;
  }
  watchdog_wake.notify_all();
  watchdog.join();

  if (const char* path = std::getenv("DATAHUB_CONCURRENCY_LOG")) dump_log(path, logs);

  // --- The log, merged.
  const datahub::ConnectionType& type = datahub::connection_type("POSTGRESQL");
  std::map<std::int64_t, std::vector<const Write*>> writes;  // per id
  std::set<std::int64_t> deleted;
  long totals[7] = {0, 0, 0, 0, 0, 0, 0};
  for (std::size_t t = 0; t < threads; ++t) {
    const ThreadLog& l = logs[t];
    for (const auto& w : l.writes) writes[w.id].push_back(&w);
    for (auto id : l.deletes) {
      if (!deleted.insert(id).second) fail("id " + std::to_string(id) + " acknowledged-deleted twice");
    }
    const long counts[7] = {l.creates, l.gets, l.lists, l.updates, l.removes, l.conflicts, l.misses};
    for (int i = 0; i < 7; ++i) totals[i] += counts[i];
    std::printf("thread %zu: %ld creates, %ld gets, %ld lists, %ld updates, %ld deletes, "
                "%ld conflicts, %ld not found\n",
                t, l.creates, l.gets, l.lists, l.updates, l.removes, l.conflicts, l.misses);
  }
  std::printf("total: %ld creates, %ld gets, %ld lists, %ld updates, %ld deletes, %ld conflicts, "
              "%ld not found (%.0f acknowledged ops/s)\n",
              totals[0], totals[1], totals[2], totals[3], totals[4], totals[5], totals[6],
              static_cast<double>(totals[0] + totals[1] + totals[2] + totals[3] + totals[4]) /
                  static_cast<double>(seconds));

  // Per row: exactly one create, then a chain of updates each made against the previous.
  std::map<std::int64_t, const Write*> last;
  for (auto& [id, list] : writes) {
    std::sort(list.begin(), list.end(),
              [](const Write* a, const Write* b) { return a->updated_at < b->updated_at; });
    if (list.front()->is_update) fail("id " + std::to_string(id) + ": an update without its create");
    for (std::size_t i = 1; i < list.size(); ++i) {
      if (!list[i]->is_update) fail("id " + std::to_string(id) + ": created twice");
      if (list[i]->updated_at == list[i - 1]->updated_at) {
        fail("id " + std::to_string(id) + ": two acknowledged writes share an updated_at: " +
             describe(*list[i - 1]) + " / " + describe(*list[i]));
      }
      if (list[i]->expected != list[i - 1]->updated_at) {
        fail("LOST UPDATE on id " + std::to_string(id) + ": " + describe(*list[i]) +
             " was not made against the write before it: " + describe(*list[i - 1]));
      }
    }
    last[id] = list.back();
  }
  for (auto id : deleted) {
    if (!writes.count(id)) fail("id " + std::to_string(id) + " deleted but never created");
  }
  // NotFound only where an acknowledged delete explains it.
  for (const auto& l : logs) {
    for (auto id : l.not_found) {
      if (!deleted.count(id)) fail("NotFound for id " + std::to_string(id) + ", which nobody deleted");
    }
  }
  // Every read showed an acknowledged write, exactly.
  std::size_t checked_reads = 0;
  for (const auto& l : logs) {
    for (const auto& o : l.observations) {
      auto it = writes.find(o.id);
      bool ok = false;
      if (it != writes.end()) {
        for (const Write* w : it->second) {
          if (w->updated_at == o.updated_at) {
            ok = matches(o, *w, type);
            break;
          }
        }
      }
      if (!ok) {
        fail(std::string(o.via) + " of id " + std::to_string(o.id) + " at " +
             datahub::format_timestamp(o.updated_at) + " shows no acknowledged write");
      }
      ++checked_reads;
    }
  }

  // --- The table, against the log.
  std::set<std::int64_t> expected_ids;
  for (const auto& [id, w] : last) {
    if (!deleted.count(id)) expected_ids.insert(id);
  }
  std::set<std::int64_t> table_ids;
  for (const auto& row : pg.query("SELECT id FROM database_connections ORDER BY id")) {
    table_ids.insert(std::stoll(row[0]));
  }
  for (auto id : expected_ids) {
    if (!table_ids.count(id)) fail("id " + std::to_string(id) + ": acknowledged, not deleted, missing from the table");
  }
  for (auto id : table_ids) {
    if (!expected_ids.count(id)) {
      fail("id " + std::to_string(id) + ": in the table but " +
           (deleted.count(id) ? "acknowledged-deleted" : "never acknowledged-created"));
    }
  }
  for (auto id : expected_ids) {
    if (!table_ids.count(id)) continue;
    const Write& w = *last[id];
    const datahub::Connection row = store.get(id, datahub::Secrets::reveal);
    if (!matches(observe(row, "final"), w, type)) {
      fail("id " + std::to_string(id) + ": the row is not its last acknowledged write (" +
           describe(w) + "); the row has updated_at " + datahub::format_timestamp(row.updated_at) +
           " by " + row.updated_by);
    }
  }
  std::printf("checked: %zu rows in the table, %zu ids written, %zu deleted, %zu reads\n",
              table_ids.size(), writes.size(), deleted.size(), checked_reads);

  // --- A rotation with several workers onto a new key (rotation_check.cpp).
  for (const auto& problem : check_rotation_with_workers(store, options, table_ids)) fail(problem);

  if (totals[5] == 0) fail("no Conflict at all: the threads did not contend on shared rows");
  if (totals[3] == 0 || totals[4] == 0 || totals[0] == 0) fail("an operation kind never succeeded");
  if (failures.load() > 0) {
    std::cerr << failures.load() << " failure(s)\n";
    return 1;
  }
  std::cout << "concurrency: OK" << std::endl;
  return 0;
}
