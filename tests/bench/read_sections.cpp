// Sections "get", "tags", "rss" and "pool": reading through the SDK against libpq and pgbench.
#include "bench.hpp"

#include "store/record_codec.hpp"
#include "store/rows.hpp"

#include <algorithm>
#include <atomic>
#include <fstream>
#include <functional>
#include <random>
#include <sstream>
#include <thread>

#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

namespace bench {
namespace {

// What any SDK that decrypts must do with get()'s result: copy the row out and open it.
// Clears `r`.
Connection open_row(const store::RecordCodec& codec, PGresult* r) {
  store::StoredRow row;
  row.id = std::atoll(PQgetvalue(r, 0, 0));
  row.name = PQgetvalue(r, 0, 1);
  if (!PQgetisnull(r, 0, 2)) row.description = PQgetvalue(r, 0, 2);
  row.type = PQgetvalue(r, 0, 3);
  row.envelope = PQgetvalue(r, 0, 4);
  row.tags_json = PQgetvalue(r, 0, 5);
  row.created_us = std::atoll(PQgetvalue(r, 0, 6));
  row.created_by = PQgetvalue(r, 0, 7);
  row.updated_us = std::atoll(PQgetvalue(r, 0, 8));
  row.updated_by = PQgetvalue(r, 0, 9);
  PQclear(r);
  return codec.to_connection(row, Secrets::redact, false);
}

}  // namespace

std::vector<std::int64_t> Bench::random_ids(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<std::int64_t> dist(1, o_.rows);
  std::vector<std::int64_t> ids(n);
  for (auto& id : ids) id = dist(rng);
  return ids;
}

void Bench::get_bench() {
  say("\n== get(id) with decryption vs libpq PQexecPrepared of the same SELECT (same socket)");
  ConnectionStore store(store_options(o_, kKeys1, 1));
  PgConn raw(o_.db);
  raw.prepare("bench_get", get_sql());
  store::RecordCodec codec(keyring(kKeys1), "A256GCM");
  const std::size_t block = static_cast<std::size_t>(o_.get_block);
  const auto ids = random_ids(block * static_cast<std::size_t>(o_.get_rounds + 1), 7);
  std::vector<std::string> id_text;
  for (auto id : ids) id_text.push_back(std::to_string(id));
  volatile std::size_t sink = 0;

  auto libpq_get = [&](std::size_t i) {
    PGresult* r = raw.exec_prepared("bench_get", {id_text[i].c_str()});
    for (int col = 0; col < PQnfields(r); ++col) sink = sink + static_cast<std::size_t>(PQgetlength(r, 0, col));
    PQclear(r);
  };
  auto sdk_get = [&](std::size_t i) {
    Connection c = store.get(ids[i]);
    sink = sink + c.details.size();
  };
  // The floor for the SDK: the same libpq call, the row copied out, then opened.
  auto floor_get = [&](std::size_t i) {
    Connection c = open_row(codec, raw.exec_prepared("bench_get", {id_text[i].c_str()}));
    sink = sink + c.details.size();
  };
  for (std::size_t i = 0; i < block; ++i) {  // warm-up: round 0's ids
    sdk_get(i);
    libpq_get(i);
    floor_get(i);
  }
  // Interleaved op by op (order rotating), each op timed on its own: on a shared, busy
  // machine the median of single-op latencies is robust where block averages are not.
  std::vector<double> sdk, lib, flo;
  const std::size_t total = block * static_cast<std::size_t>(o_.get_rounds);
  for (std::size_t i = 0; i < total; ++i) {
    const std::size_t at = block + i;
    for (int k = 0; k < 3; ++k) {
      const int which = static_cast<int>((static_cast<std::size_t>(k) + i) % 3);
      const auto t0 = Clock::now();
      if (which == 0) libpq_get(at);
      else if (which == 1) sdk_get(at);
      else floor_get(at);
      const double us = seconds_since(t0) * 1e6;
      (which == 0 ? lib : which == 1 ? sdk : flo).push_back(us);
    }
  }
  // Client CPU per op (this thread only), in blocks: stable however busy the machine is.
  auto cpu_us = [&](const std::function<void(std::size_t)>& op) {
    timespec a{}, b{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
    for (std::size_t i = 0; i < block; ++i) op(block + i);
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
    return ((b.tv_sec - a.tv_sec) * 1e6 + (b.tv_nsec - a.tv_nsec) / 1e3) / static_cast<double>(block);
  };
  const double cpu_lib = cpu_us(libpq_get), cpu_sdk = cpu_us(sdk_get), cpu_floor = cpu_us(floor_get);
  auto& d = r_.details["get"];
  d["sdk_us"] = median(sdk);
  d["libpq_us"] = median(lib);
  d["libpq_plus_open_us"] = median(flo);
  d["p90_sdk_us"] = percentile(sdk, 90);
  d["p90_libpq_us"] = percentile(lib, 90);
  d["client_cpu_sdk_us"] = cpu_sdk;
  d["client_cpu_libpq_us"] = cpu_lib;
  d["client_cpu_libpq_plus_open_us"] = cpu_floor;
  d["floor_ratio"] = median(flo) / median(lib);
  r_.keys["get_vs_libpq_ratio"] = median(sdk) / median(lib);
  say("  libpq " + fmt(d["libpq_us"], 1) + " us/op, sdk get " + fmt(d["sdk_us"], 1) + " us/op, libpq+open " +
      fmt(d["libpq_plus_open_us"], 1) + " us/op; ratio " + fmt(r_.keys["get_vs_libpq_ratio"], 3) +
      " (floor with decryption " + fmt(d["floor_ratio"], 3) + ")");
  say("  client CPU per op: libpq " + fmt(cpu_lib, 1) + " us, sdk get " + fmt(cpu_sdk, 1) + " us, libpq+open " +
      fmt(cpu_floor, 1) + " us");
}

void Bench::tag_bench() {
  say("\n== tag search: list(tags_all = {grp-N}) over " + std::to_string(o_.rows) + " rows (~" +
      std::to_string(o_.rows / tag_groups(o_.rows)) + " matches per tag)");
  ConnectionStore store(store_options(o_, kKeys1, 1));
  std::mt19937_64 rng(11);
  std::uniform_int_distribution<std::int64_t> dist(0, tag_groups(o_.rows) - 1);
  std::vector<double> ms;
  std::size_t found = 0;
  const auto started = Clock::now();
  for (int i = 0; i < o_.tag_queries + 20; ++i) {
    if (i > 40 && seconds_since(started) > o_.tag_budget_s) break;  // slow plans: enough samples
    ListQuery q;
    q.tags_all = {"grp-" + std::to_string(dist(rng))};
    q.limit = 100;
    const auto t0 = Clock::now();
    Page p = store.list(q);
    const double t = seconds_since(t0) * 1e3;
    if (i >= 20) {
      ms.push_back(t);
      found += p.items.size();
    }
  }
  auto& d = r_.details["tags"];
  d["p50_ms"] = median(ms);
  d["p95_ms"] = percentile(ms, 95);
  d["mean_matches"] = static_cast<double>(found) / static_cast<double>(ms.size());
  r_.keys["tag_search_p50_ms"] = d["p50_ms"];
  say("  p50 " + fmt(d["p50_ms"], 3) + " ms, p95 " + fmt(d["p95_ms"], 3) + " ms, " + fmt(d["mean_matches"], 1) +
      " rows per query");

  // The plan of the statement list() runs first for a tag filter (mirrors
  // ConnectionStore::list: the matching ids, unordered, planned for the values given).
  PgConn raw(o_.db);
  bool uses_index = true;
  {
    const std::string tag = "grp-" + std::to_string(37 % tag_groups(o_.rows));
    auto plan = raw.query("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) SELECT id FROM database_connections "
                          "WHERE id > CAST('0' AS bigint) AND tags @> CAST('{\"" + tag +
                          "\"}' AS text[]) LIMIT 10001");
    std::string text;
    for (const auto& line : plan) text += line[0] + "\n";
    r_.explain.push_back("list() step 1, the matching ids:\n" + text);
    say("  EXPLAIN of list()'s id search:");
    for (const auto& line : plan) say("    " + line[0]);
    uses_index = text.find("idx_database_connections_tags") != std::string::npos;
  }
  // Why list() does not simply run one prepared "... WHERE tags @> $2 ORDER BY id LIMIT n":
  // after 5 executions PostgreSQL may switch to a generic plan that walks the primary key.
  const std::string sql = std::string("SELECT ") + store::row_columns() +
                          " FROM database_connections WHERE id > CAST($1 AS bigint) AND tags @> "
                          "ARRAY(SELECT jsonb_array_elements_text(CAST($2 AS jsonb))) "
                          "ORDER BY id LIMIT CAST($3 AS integer)";
  // That single prepared statement through libpq, with plan_cache_mode auto and
  // force_custom_plan: the baseline the two-step search replaces.
  for (const char* mode : {"auto", "force_custom_plan"}) {
    PgConn c(o_.db);
    c.query(std::string("SET plan_cache_mode = ") + mode);
    c.prepare("tag_q", sql);
    std::vector<double> t_ms;
    const auto begun = Clock::now();
    for (int i = 0; i < 120; ++i) {
      if (i > 30 && seconds_since(begun) > o_.tag_budget_s / 2) break;
      const std::string tags = "[\"grp-" + std::to_string(dist(rng)) + "\"]";
      const auto t0 = Clock::now();
      PQclear(c.exec_prepared("tag_q", {"0", tags.c_str(), "101"}));
      if (i >= 10) t_ms.push_back(seconds_since(t0) * 1e3);
    }
    d[std::string("libpq_prepared_p50_ms_") + mode] = median(t_ms);
    say(std::string("  libpq, one prepared ORDER BY id LIMIT statement, plan_cache_mode ") + mode + ": p50 " +
        fmt(median(t_ms), 3) + " ms");
  }
  r_.info["tag_search_uses_gin_index"] = uses_index ? "yes" : "NO";
  d["explain_uses_gin_index"] = uses_index ? 1 : 0;
  say(std::string("  EXPLAIN shows idx_database_connections_tags: ") + (uses_index ? "yes" : "NO"));
}

void Bench::rss_bench() {
  say("\n== for_each over " + std::to_string(o_.rows) + " rows with decryption, in a fresh child process");
  setenv("DATAHUB_BENCH_DB", o_.db.c_str(), 1);
  // popen runs /bin/sh, whose /proc/self is the shell: use our resolved path.
  char exe[4096];
  const ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) throw std::runtime_error("readlink /proc/self/exe");
  exe[n] = 0;
  FILE* p = popen((std::string("'") + exe + "' --child-rss").c_str(), "r");
  if (!p) throw std::runtime_error("popen child");
  std::string out;
  char buf[512];
  while (std::fgets(buf, sizeof buf, p)) out += buf;
  if (pclose(p) != 0) throw std::runtime_error("child failed: " + out);
  long base = 0, hwm_before = 0, hwm = 0;
  long long rows = 0, opened = 0;
  double secs = 0;
  const auto at = out.find("RSS ");
  if (at == std::string::npos ||
      std::sscanf(out.c_str() + at, "RSS base_kib=%ld hwm_before_kib=%ld hwm_kib=%ld rows=%lld opened=%lld seconds=%lf",
                  &base, &hwm_before, &hwm, &rows, &opened, &secs) != 6)
    throw std::runtime_error("child output: " + out);
  auto& d = r_.details["rss"];
  d["base_rss_mib"] = base / 1024.0;
  d["peak_rss_mib"] = hwm / 1024.0;
  d["rows"] = static_cast<double>(rows);
  d["opened"] = static_cast<double>(opened);
  d["seconds"] = secs;
  d["rows_per_second"] = rows / secs;
  d["page_size"] = 1000;
  r_.keys["list_1m_peak_rss_mib"] = (hwm - base) / 1024.0;
  say("  " + std::to_string(rows) + " rows (" + std::to_string(opened) + " opened) in " + fmt(secs) + " s (" +
      fmt(rows / secs, 0) + " rows/s); RSS before " + fmt(base / 1024.0, 1) + " MiB, peak " + fmt(hwm / 1024.0, 1) +
      " MiB, extra " + fmt(r_.keys["list_1m_peak_rss_mib"], 1) + " MiB");
}

double Bench::pgbench_tps(int clients) {
  const std::string script = "/tmp/datahub_bench_get.sql";
  {
    std::ofstream f(script);
    f << "\\set id random(1, " << o_.rows << ")\n";
    f << "SELECT " << store::row_columns() << " FROM database_connections WHERE id = CAST(:id AS bigint);\n";
  }
  std::string db = o_.db;
  std::string quoted;
  for (char ch : db) quoted += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
  const std::string cmd = o_.pgbench + " -M prepared -n -c " + std::to_string(clients) + " -j " +
                          std::to_string(clients) + " -T " + std::to_string(static_cast<int>(o_.pool_seconds)) +
                          " -f " + script + " '" + quoted + "' 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) throw std::runtime_error("popen pgbench");
  std::string out;
  char buf[512];
  while (std::fgets(buf, sizeof buf, p)) out += buf;
  pclose(p);
  const auto at = out.find("tps = ");
  if (at == std::string::npos) throw std::runtime_error("pgbench output: " + out);
  return std::atof(out.c_str() + at + 6);
}

// Reads per second of T threads, thread k calling read(k, random id), for pool_seconds,
// and the CPU time this process spent per read meanwhile.
Bench::ReadRate Bench::reads_per_second(int threads, const std::function<void(int, std::int64_t)>& read) {
  std::atomic<bool> stop{false};
  std::vector<long long> counts(static_cast<std::size_t>(threads), 0);
  std::vector<std::thread> workers;
  for (int k = 0; k < threads; ++k) {
    workers.emplace_back([&, k] {
      std::mt19937_64 rng(static_cast<std::uint64_t>(100 + k));
      std::uniform_int_distribution<std::int64_t> dist(1, o_.rows);
      long long n = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        read(k, dist(rng));
        ++n;
      }
      counts[static_cast<std::size_t>(k)] = n;
    });
  }
  auto cpu_seconds = [] {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
  };
  const double cpu0 = cpu_seconds();
  const auto t0 = Clock::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(o_.pool_seconds));
  stop = true;
  for (auto& w : workers) w.join();
  const double secs = seconds_since(t0);
  const double cpu = cpu_seconds() - cpu0;
  long long total = 0;
  for (auto c : counts) total += c;
  ReadRate rate;
  rate.per_second = static_cast<double>(total) / secs;
  rate.cpu_us_per_read = total ? cpu * 1e6 / static_cast<double>(total) : 0;
  return rate;
}

void Bench::pool_bench() {
  say("\n== pool: get(random id) from T threads sharing one store (pool_size 8) vs pgbench -M prepared -c T -j T");
  say("  per T, two alternating runs of each side, the better of each kept (as for bulk). Two more sides bound");
  say("  the SDK: T threads here, each on its own libpq connection, running PQexecPrepared alone (libpq) and");
  say("  then opening the row too (floor: what any SDK that decrypts pays)");
  ConnectionStore store(store_options(o_, kKeys1, 8));
  store::RecordCodec codec(keyring(kKeys1), "A256GCM");
  std::vector<std::unique_ptr<PgConn>> raw;
  auto exec_get = [&](int k, std::int64_t id) {
    const std::string text = std::to_string(id);
    return raw[static_cast<std::size_t>(k)]->exec_prepared("bench_get", {text.c_str()});
  };
  const std::vector<std::pair<std::string, std::function<void(int, std::int64_t)>>> sides{
      {"sdk", [&](int, std::int64_t id) { store.get(id); }},
      {"libpq", [&](int k, std::int64_t id) { PQclear(exec_get(k, id)); }},
      {"floor", [&](int k, std::int64_t id) { open_row(codec, exec_get(k, id)); }},
  };
  double worst = 1e9, worst_floor = 1e9;
  int worst_t = 0;
  for (int t : {1, 2, 4, 8}) {
    while (raw.size() < static_cast<std::size_t>(t)) {
      raw.push_back(std::make_unique<PgConn>(o_.db));
      raw.back()->prepare("bench_get", get_sql());
    }
    // Warm every session up (prepares the statement on each).
    {
      std::vector<std::thread> warm;
      for (int k = 0; k < t; ++k)
        warm.emplace_back([&, k] {
          for (int i = 1; i <= 200; ++i) store.get((k * 200 + i) % o_.rows + 1);
        });
      for (auto& w : warm) w.join();
    }
    std::map<std::string, std::vector<double>> runs;
    std::map<std::string, double> cpu;  // client CPU µs per read in the better run of each side
    for (int rep = 0; rep < 2; ++rep) {
      for (const auto& [name, read] : sides) {
        const ReadRate rate = reads_per_second(t, read);
        if (runs[name].empty() || rate.per_second > runs[name].back()) cpu[name] = rate.cpu_us_per_read;
        runs[name].push_back(rate.per_second);
      }
      runs["pgbench"].push_back(pgbench_tps(t));
    }
    auto& d = r_.details["pool"];
    const std::string at = "_T" + std::to_string(t);
    std::string line = "  T=" + std::to_string(t) + ":";
    std::map<std::string, double> best;
    for (const auto& [name, values] : runs) {
      best[name] = *std::max_element(values.begin(), values.end());
      line += " " + name + " " + fmt(best[name], 0) + " (" + fmt(values[0], 0) + ", " + fmt(values[1], 0) + ")";
    }
    const double ratio = best["sdk"] / best["pgbench"];
    d["sdk_reads_per_s" + at] = best["sdk"];
    d["pgbench_tps" + at] = best["pgbench"];
    d["libpq_reads_per_s" + at] = best["libpq"];
    d["floor_reads_per_s" + at] = best["floor"];
    d["ratio" + at] = ratio;
    d["libpq_ratio" + at] = best["libpq"] / best["pgbench"];
    d["floor_ratio" + at] = best["floor"] / best["pgbench"];
    if (ratio < worst) {
      worst = ratio;
      worst_t = t;
    }
    worst_floor = std::min(worst_floor, d["floor_ratio" + at]);
    for (const auto& [name, us] : cpu) d["client_cpu_us_per_read_" + name + at] = us;
    say(line + " /s");
    say("       client CPU per read: sdk " + fmt(cpu["sdk"], 1) + " us, libpq " + fmt(cpu["libpq"], 1) + " us, floor " +
        fmt(cpu["floor"], 1) + " us");
    say("       ratio " + fmt(ratio, 3) + "; libpq " + fmt(d["libpq_ratio" + at], 3) + ", floor " +
        fmt(d["floor_ratio" + at], 3) + " of pgbench");
  }
  r_.keys["pool_vs_pgbench_ratio"] = worst;
  r_.details["pool"]["worst_T"] = worst_t;
  r_.details["pool"]["floor_ratio_at_worst_T"] = r_.details["pool"]["floor_ratio_T" + std::to_string(worst_t)];
  // The bound: no SDK that opens each row does better than the floor at its worst T.
  r_.details["pool"]["floor_ratio_worst"] = worst_floor;
  say("  worst T: sdk " + fmt(worst, 3) + " (T=" + std::to_string(worst_t) + "), floor " + fmt(worst_floor, 3));
  r_.details["pool"]["seconds_per_run"] = o_.pool_seconds;
  r_.details["pool"]["runs_per_side"] = 2;
}

}  // namespace bench
