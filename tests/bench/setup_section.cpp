// The server's settings, printed with the results, and the table populated for the other
// sections (sealed on two threads, COPY, indexes rebuilt).
#include "bench.hpp"

#include "store/record_codec.hpp"

#include <thread>

namespace bench {

void Bench::settings() {
  r_.settings["server_version"] = pg_.scalar("SHOW server_version");
  for (const auto& row : pg_.query(
           "SELECT name, setting || COALESCE(' ' || unit, '') FROM pg_settings WHERE name IN "
           "('fsync','synchronous_commit','full_page_writes','wal_level','shared_buffers','work_mem',"
           "'max_wal_size','checkpoint_timeout','log_statement','log_min_duration_statement','jit',"
           "'plan_cache_mode','random_page_cost','effective_cache_size','max_connections','gin_pending_list_limit',"
           "'wal_sync_method') ORDER BY name")) {
    r_.settings[row[0]] = row[1];
  }
  say("PostgreSQL " + r_.settings["server_version"] + " settings:");
  for (const auto& [k, v] : r_.settings) say("  " + k + " = " + v);
  if (r_.settings["log_statement"] != "none")
    say("  WARNING: log_statement is not 'none'; every statement is logged, figures are pessimistic");
  r_.info["socket"] = PQhost(pg_.c) ? PQhost(pg_.c) : "";
}

void Bench::populate() {
  say("\n== populate " + std::to_string(o_.rows) + " rows (sealed client-side, COPY)");
  {
    ConnectionStore s(store_options(o_, kKeys1, 1));
    s.migrate();
  }
  if (o_.reuse && pg_.scalar("SELECT count(*) FROM database_connections WHERE connection_details->>'kid' = 'bench-k1'") ==
                      std::to_string(o_.rows)) {
    say("  --reuse: the table already holds " + std::to_string(o_.rows) + " rows under bench-k1");
    return;
  }
  const auto t0 = Clock::now();
  pg_.query("TRUNCATE database_connections RESTART IDENTITY");
  auto indexes = pg_.query(
      "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'database_connections' "
      "AND indexname <> 'database_connections_pkey'");
  for (const auto& ix : indexes) pg_.query("DROP INDEX " + ix[0]);

  // Sealing uses a DEK cache (ttl 1 h, 1000 records per DEK) to make population fast;
  // every record still has its own mid and content key. The figures below use stores
  // with the default options (cache off).
  crypto::DekCachePolicy cached;
  cached.ttl = std::chrono::seconds(3600);
  store::RecordCodec codec(keyring(kKeys1), "A256GCM", cached);
  const std::int64_t chunk = 20000;
  std::int64_t next = 1;
  const int threads = 2;
  pg_.copy_in(kCopySql, [&](std::string& out) {
    const std::int64_t end = std::min(o_.rows + 1, next + chunk);
    std::vector<std::string> parts(threads);
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
      workers.emplace_back([&, t] {
        for (std::int64_t id = next + t; id < end; id += threads) {
          const NewConnection c = sample_connection(id, o_.rows);
          copy_line(parts[static_cast<std::size_t>(t)], id, c, codec.seal(c.details, id));
        }
      });
    }
    for (auto& w : workers) w.join();
    for (auto& p : parts) out += p;
    next = end;
    return next <= o_.rows;
  });
  pg_.query("SELECT setval(pg_get_serial_sequence('database_connections', 'id'), " + std::to_string(o_.rows) + ")");
  const double copy_s = seconds_since(t0);
  for (const auto& ix : indexes) pg_.query(ix[1]);
  const double index_s = seconds_since(t0) - copy_s;
  pg_.query("VACUUM (ANALYZE) database_connections");
  pg_.query("CHECKPOINT");
  r_.details["populate"]["seal_and_copy_seconds"] = copy_s;
  r_.details["populate"]["index_build_seconds"] = index_s;
  r_.details["populate"]["total_seconds"] = seconds_since(t0);
  r_.details["populate"]["table_mib"] =
      std::atof(pg_.scalar("SELECT pg_total_relation_size('database_connections') / 1048576.0").c_str());
  say("  seal+COPY " + fmt(copy_s) + " s, indexes " + fmt(index_s) + " s, total " +
      fmt(r_.details["populate"]["total_seconds"]) + " s, table+indexes " +
      fmt(r_.details["populate"]["table_mib"], 0) + " MiB");
}

}  // namespace bench
