// datahub_bench's shared parts: statistics, the workload, options, and the Bench class
// whose sections (one file each: crypto, populate, reads, writes, report) fill Results.
#pragma once

#include "pg_conn.hpp"

#include <datahub/connections.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace bench {

using namespace datahub;
using Clock = std::chrono::steady_clock;

// ----------------------------------------------------------------------------- statistics

inline double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

inline double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

inline double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const double rank = p / 100.0 * static_cast<double>(v.size() - 1);
  const std::size_t lo = static_cast<std::size_t>(std::floor(rank));
  const std::size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (rank - static_cast<double>(lo));
}

inline void say(const std::string& line) {
  std::cout << line << std::endl;
}

inline std::string fmt(double v, int digits = 2) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}


// Results: flat numbers and strings, grouped, written as JSON at the end.
struct Results {
  std::map<std::string, double> keys;                       // the keys
  std::map<std::string, std::map<std::string, double>> details;  // supporting figures
  std::map<std::string, std::string> settings;
  std::map<std::string, std::string> info;
  std::vector<std::string> explain;
};

// ----------------------------------------------------------------------------- workload

// Fixed benchmark keys (never production keys): "bench-k1" seals the table, "bench-k2" is
// the rotation target.
extern const std::string kKeys1;
extern const std::string kKeys2;
extern const std::string kKeys1Back;  // bench-k1 primary, bench-k2 still there: to rotate back

// A realistic ~200-byte details object (as JSON, as sealed).
Details sample_details(std::int64_t i);
// Tags: an environment, a team, and "grp-N" shared by about 10 rows (the tag search).
std::int64_t tag_groups(std::int64_t rows);
NewConnection sample_connection(std::int64_t i, std::int64_t rows);

// One COPY text line for database_connections
// (id, name, description, type, connection_details, tags, created_by, updated_by).
// No value here holds a tab, newline or backslash (base64, fixed ASCII), so no escaping.
void copy_line(std::string& out, std::int64_t id, const NewConnection& c, const std::string& envelope);
extern const char* const kCopySql;

// The statement get() runs, for the libpq baselines.
std::string get_sql();

// ----------------------------------------------------------------------------- options

struct Options {
  std::string db;
  bool quick = false;
  std::string out = "bench-results.json";
  std::int64_t rows = 0;
  std::string pgbench = "pgbench";
  std::string only;  // comma-separated sections, empty = all
  bool child_rss = false;
  bool reuse = false;          // keep a table already populated by an earlier run (profiling)
  long profile_seal_open = 0;  // N seal + open and nothing else (callgrind, perf)
  double tag_budget_s = 60;
  // sizes, set from quick/full
  std::int64_t bulk = 100000;
  std::int64_t naive_sample = 20000;
  int get_rounds = 60, get_block = 250;
  double pool_seconds = 5;
  int tag_queries = 300;
  int crypto_rounds = 30, crypto_block = 1000;

  bool want(const std::string& section) const {
    if (only.empty()) return true;
    return ("," + only + ",").find("," + section + ",") != std::string::npos;
  }
};

std::shared_ptr<StaticKeyring> keyring(const std::string& keys);
StoreOptions store_options(const Options& o, const std::string& keys, std::size_t pool);

// Child mode (--child-rss): streams every row with for_each, decrypting, and prints the
// extra peak RSS for the parent's rss section.
int child_rss(const Options& o);

// ----------------------------------------------------------------------------- sections

class Bench {
 public:
  explicit Bench(Options o) : o_(std::move(o)), pg_(o_.db) {}
  int run();

 private:
  void settings();
  void crypto_bench();
  void populate();
  std::vector<std::int64_t> random_ids(std::size_t n, std::uint64_t seed);
  void get_bench();
  void tag_bench();
  void rss_bench();
  double pgbench_tps(int clients);
  void pool_bench();
  struct ReadRate {
    double per_second = 0;
    double cpu_us_per_read = 0;  // this process (user + system), all threads
  };
  ReadRate reads_per_second(int threads, const std::function<void(int, std::int64_t)>& read);
  void bulk_bench();
  void rotate_bench();
  void table();
  void write_json();

  Options o_;
  PgConn pg_;
  Results r_;
};

}  // namespace bench
