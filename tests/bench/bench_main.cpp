// datahub_bench: the SDK measured side by side with its baselines (issue 6).
//
//   datahub_bench [--quick] [--out bench-results.json] [--db CONNINFO] [--rows N]
//                 [--pgbench PATH] [--only SECTIONS]
//
// CONNINFO defaults to $DATAHUB_TEST_DATABASE. The program TRUNCATEs database_connections
// in that database: point it at a throwaway one (tests/bench.sh does).
//
// Every ratio is measured in one run, baseline and SDK interleaved where possible, so it
// holds on a noisy shared machine. Times per operation are medians over rounds.
#include "bench.hpp"

#include "store/record_codec.hpp"

#include <cstdlib>
#include <stdexcept>

namespace bench {

int Bench::run() {
  say(std::string("datahub_bench: mode ") + (o_.quick ? "quick" : "full") + ", " + std::to_string(o_.rows) +
      " rows");
  settings();
  if (o_.want("crypto")) crypto_bench();
  if (o_.want("get") || o_.want("tags") || o_.want("rss") || o_.want("pool") || o_.want("bulk") ||
      o_.want("rotate"))
    populate();
  if (o_.want("get")) get_bench();
  if (o_.want("tags")) tag_bench();
  if (o_.want("rss")) rss_bench();
  if (o_.want("pool")) pool_bench();
  if (o_.want("bulk")) bulk_bench();
  if (o_.want("rotate")) rotate_bench();
  table();
  write_json();
  return 0;
}

}  // namespace bench

using namespace bench;

int main(int argc, char** argv) {
  Options o;
  if (const char* db = std::getenv("DATAHUB_TEST_DATABASE")) o.db = db;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error(a + " needs a value");
      return argv[++i];
    };
    if (a == "--quick") o.quick = true;
    else if (a == "--out") o.out = value();
    else if (a == "--db") o.db = value();
    else if (a == "--rows") o.rows = std::atoll(value().c_str());
    else if (a == "--pgbench") o.pgbench = value();
    else if (a == "--only") o.only = value();
    else if (a == "--child-rss") o.child_rss = true;
    else if (a == "--reuse") o.reuse = true;
    else if (a == "--profile-seal-open") o.profile_seal_open = std::atol(value().c_str());
    else if (a == "-h" || a == "--help") {
      std::printf("usage: %s [--quick] [--out FILE] [--db CONNINFO] [--rows N] [--pgbench PATH] [--only "
                  "crypto,get,tags,rss,pool,bulk,rotate]\n",
                  argv[0]);
      return 0;
    } else {
      std::fprintf(stderr, "unknown argument %s\n", a.c_str());
      return 2;
    }
  }
  try {
    if (o.profile_seal_open > 0) {  // for callgrind/perf: N seal + open, nothing else
      store::RecordCodec codec(keyring(kKeys1), "A256GCM");
      const Details details = sample_details(42);
      std::size_t n = 0;
      for (long i = 0; i < o.profile_seal_open; ++i) n += codec.open(codec.seal(details, 1000 + i), 1000 + i).size();
      std::printf("%zu\n", n);
      return 0;
    }
    if (o.child_rss) {
      if (const char* db = std::getenv("DATAHUB_BENCH_DB")) o.db = db;
      return child_rss(o);
    }
    if (o.db.empty()) {
      std::fprintf(stderr, "no database: pass --db or set DATAHUB_TEST_DATABASE\n");
      return 2;
    }
    if (o.quick) {
      if (!o.rows) o.rows = 100000;
      o.bulk = 20000;
      o.naive_sample = 3000;
      o.get_rounds = 40;
      o.get_block = 150;
      o.tag_budget_s = 20;
      o.pool_seconds = 2;
      o.tag_queries = 150;
      o.crypto_rounds = 15;
      o.crypto_block = 500;
    } else if (!o.rows) {
      o.rows = 1000000;
    }
    return Bench(o).run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "datahub_bench: %s\n", e.what());
    return 1;
  }
}
