// Sections "bulk" and "rotate": create_many against COPY, rotate() against a per-row loop
// and against the server's own floor.
#include "bench.hpp"

#include "store/record_codec.hpp"

#include <thread>

namespace bench {

void Bench::bulk_bench() {
  say("\n== bulk: create_many of " + std::to_string(o_.bulk) + " records vs COPY of the same rows already sealed");
  ConnectionStore store(store_options(o_, kKeys1, 1));
  store::RecordCodec codec(keyring(kKeys1), "A256GCM");
  std::vector<NewConnection> inputs;
  inputs.reserve(static_cast<std::size_t>(o_.bulk));
  for (std::int64_t i = 0; i < o_.bulk; ++i) inputs.push_back(sample_connection(o_.rows + 1 + i, o_.rows));
  std::vector<double> copy_s, sdk_s;
  for (int rep = 0; rep < 2; ++rep) {
    // COPY baseline: ids taken and rows sealed beforehand (not timed).
    const auto ids = pg_.query("SELECT nextval(pg_get_serial_sequence('database_connections', 'id')) "
                               "FROM generate_series(1, " + std::to_string(o_.bulk) + ")");
    std::vector<std::string> envelopes(static_cast<std::size_t>(o_.bulk));
    for (std::size_t i = 0; i < envelopes.size(); ++i)
      envelopes[i] = codec.seal(inputs[i].details, std::atoll(ids[i][0].c_str()));
    auto t0 = Clock::now();
    std::size_t at = 0;
    pg_.copy_in(kCopySql, [&](std::string& out) {
      const std::size_t end = std::min(envelopes.size(), at + 5000);
      for (; at < end; ++at) copy_line(out, std::atoll(ids[at][0].c_str()), inputs[at], envelopes[at]);
      return at < envelopes.size();
    });
    copy_s.push_back(seconds_since(t0));

    t0 = Clock::now();
    auto created = store.create_many(inputs, "bench");
    sdk_s.push_back(seconds_since(t0));
    if (created.size() != inputs.size()) throw std::runtime_error("create_many returned too few rows");
    say("  rep " + std::to_string(rep + 1) + ": COPY " + fmt(copy_s.back(), 3) + " s, create_many " +
        fmt(sdk_s.back(), 3) + " s");
  }
  const double copy_best = *std::min_element(copy_s.begin(), copy_s.end());
  const double sdk_best = *std::min_element(sdk_s.begin(), sdk_s.end());
  auto& d = r_.details["bulk"];
  d["records"] = static_cast<double>(o_.bulk);
  d["copy_rows_per_s"] = static_cast<double>(o_.bulk) / copy_best;
  d["create_many_rows_per_s"] = static_cast<double>(o_.bulk) / sdk_best;
  // What sealing alone costs per record, to compare with the gap.
  const auto t0 = Clock::now();
  for (std::size_t i = 0; i < 20000 && i < inputs.size(); ++i) codec.seal(inputs[i].details, static_cast<std::int64_t>(i) + 1);
  d["seal_us_per_record"] = seconds_since(t0) * 1e6 / static_cast<double>(std::min<std::size_t>(20000, inputs.size()));
  r_.keys["bulk_vs_copy_ratio"] = copy_best / sdk_best;
  say("  best: COPY " + fmt(d["copy_rows_per_s"], 0) + " rows/s, create_many " + fmt(d["create_many_rows_per_s"], 0) +
      " rows/s; ratio " + fmt(r_.keys["bulk_vs_copy_ratio"], 3) + " (sealing alone " +
      fmt(d["seal_us_per_record"], 2) + " us/record)");
  pg_.query("DELETE FROM database_connections WHERE id > " + std::to_string(o_.rows));
  pg_.query("VACUUM (ANALYZE) database_connections");
}

void Bench::rotate_bench() {
  const std::int64_t sample = std::min(o_.naive_sample, o_.rows / 4);
  say("\n== rotation bench-k1 -> bench-k2: rotate() vs a per-row SELECT + UPDATE loop (sample of " +
      std::to_string(sample) + " rows, scaled)");
  store::RecordCodec codec(keyring(kKeys2), "A256GCM");
  PgConn raw(o_.db);
  raw.prepare("naive_select", "SELECT id, CAST(connection_details AS text) FROM database_connections WHERE id = CAST($1 AS bigint)");
  raw.prepare("naive_update",
              "UPDATE database_connections SET connection_details = CAST($2 AS jsonb) WHERE id = CAST($1 AS bigint)");
  // Naive, as Airflow's rotate-fernet-key: one SELECT and one UPDATE per row. Variant A
  // commits every 500 rows (like rotate's batches); variant B commits every row.
  auto naive = [&](std::int64_t first, std::int64_t count, std::int64_t commit_every) {
    const auto t0 = Clock::now();
    raw.query("BEGIN");
    for (std::int64_t id = first; id < first + count; ++id) {
      const std::string id_s = std::to_string(id);
      PGresult* r = raw.exec_prepared("naive_select", {id_s.c_str()});
      const std::string env = PQgetvalue(r, 0, 1);
      PQclear(r);
      const std::string rotated = codec.rotate(env, id, false);
      PQclear(raw.exec_prepared("naive_update", {id_s.c_str(), rotated.c_str()}));
      if ((id - first + 1) % commit_every == 0) {
        raw.query("COMMIT");
        raw.query("BEGIN");
      }
    }
    raw.query("COMMIT");
    return seconds_since(t0) / static_cast<double>(count);
  };
  const std::int64_t sample_b = std::max<std::int64_t>(500, sample / 10);
  const double naive_a = naive(1, sample, 500);
  const double naive_b = naive(1 + sample, sample_b, 1);
  say("  naive, commit per 500 rows: " + fmt(naive_a * 1e6, 1) + " us/row; commit per row: " +
      fmt(naive_b * 1e6, 1) + " us/row");

  // rotate() as shipped (one worker), bench-k1 -> bench-k2; then the same rows back onto
  // bench-k1 with two workers, the figure reported (RotateOptions::workers).
  auto timed_rotate = [&](const std::string& keys, int workers, std::int64_t& rewritten, std::int64_t& left) {
    ConnectionStore store(store_options(o_, keys, 2));
    RotateOptions ro;  // defaults: batch_size 500, re-wrap only
    ro.workers = workers;
    const auto t0 = Clock::now();
    const RotateReport rep = store.rotate(ro);
    const double secs = seconds_since(t0);
    rewritten = rep.rewritten;
    const auto after = store.census();
    left = 0;
    for (const auto& k : after.keys)
      if (k.key_id != after.primary_key_id) left += k.rows;
    return secs;
  };
  std::int64_t rewritten_one = 0, left_one = 0, rewritten_two = 0, left_two = 0;
  const double rot_one_s = timed_rotate(kKeys2, 1, rewritten_one, left_one);
  const double rot_two_s = timed_rotate(kKeys1Back, 2, rewritten_two, left_two);
  const double per_row_one = rot_one_s / static_cast<double>(std::max<std::int64_t>(1, rewritten_one));
  const double per_row = rot_two_s / static_cast<double>(std::max<std::int64_t>(1, rewritten_two));
  auto& d = r_.details["rotate"];
  d["rotate_rows"] = static_cast<double>(rewritten_two);
  d["rotate_workers"] = 2;
  d["rotate_seconds"] = rot_two_s;
  d["rotate_us_per_row"] = per_row * 1e6;
  d["rotate_one_worker_us_per_row"] = per_row_one * 1e6;
  d["rotate_one_worker_speedup"] = naive_a / per_row_one;
  d["rotate_seconds_scaled_to_rows"] = per_row * static_cast<double>(o_.rows);
  d["naive_batched_commit_us_per_row"] = naive_a * 1e6;
  d["naive_per_row_commit_us_per_row"] = naive_b * 1e6;
  d["naive_seconds_scaled_to_rows"] = naive_a * static_cast<double>(o_.rows);
  d["naive_sample_rows"] = static_cast<double>(sample);
  d["rows_left_on_old_key"] = static_cast<double>(left_one + left_two);
  d["speedup_vs_per_row_commit"] = naive_b / per_row;
  r_.keys["rotation_vs_naive_speedup"] = naive_a / per_row;
  say("  rotate(), 1 worker: " + std::to_string(rewritten_one) + " rows in " + fmt(rot_one_s) + " s (" +
      fmt(per_row_one * 1e6, 1) + " us/row), " + std::to_string(left_one) + " rows left on the old key; " +
      fmt(d["rotate_one_worker_speedup"], 1) + "x");
  say("  rotate(), 2 workers (back onto bench-k1): " + std::to_string(rewritten_two) + " rows in " + fmt(rot_two_s) +
      " s (" + fmt(per_row * 1e6, 1) + " us/row), " + std::to_string(left_two) + " rows left on the old key; speedup " +
      fmt(r_.keys["rotation_vs_naive_speedup"], 1) + "x vs naive batched commit, " +
      fmt(d["speedup_vs_per_row_commit"], 1) + "x vs naive commit per row");
  // The server's own floor: the same 500-row batches rewriting connection_details with no
  // client work at all (a key added, then removed: two real, non-HOT updates per row), from
  // one session and from two at once on halves of the rows (the machine has two cores, so a
  // rotate() with two workers could use both). No rotation can beat the better of the two,
  // so naive / floor bounds the speedup any rotate() could reach.
  const std::int64_t floor_rows = std::min<std::int64_t>(o_.rows, 20000);
  auto rewrite_range = [](PgConn& conn, std::int64_t first_id, std::int64_t end_id) {
    for (const char* change : {"connection_details || '{\"floor\": 1}'", "connection_details - 'floor'"}) {
      for (std::int64_t first = first_id; first < end_id; first += 500) {
        conn.query(std::string("UPDATE database_connections SET connection_details = ") + change +
                   " WHERE id >= " + std::to_string(first) + " AND id < " +
                   std::to_string(std::min(first + 500, end_id)));
      }
    }
  };
  const auto f0 = Clock::now();
  rewrite_range(raw, 1, floor_rows + 1);
  const double floor_one = seconds_since(f0) / static_cast<double>(2 * floor_rows);
  const std::int64_t half = floor_rows / 2;
  const auto f1 = Clock::now();
  std::thread second([&] {
    PgConn other(o_.db);
    rewrite_range(other, half + 1, floor_rows + 1);
  });
  rewrite_range(raw, 1, half + 1);
  second.join();
  const double floor_two = seconds_since(f1) / static_cast<double>(2 * floor_rows);
  const double floor_per_row = std::min(floor_one, floor_two);
  d["server_floor_us_per_row_one_session"] = floor_one * 1e6;
  d["server_floor_us_per_row_two_sessions"] = floor_two * 1e6;
  d["server_floor_us_per_row"] = floor_per_row * 1e6;
  d["speedup_ceiling_vs_naive_batched"] = naive_a / floor_per_row;
  say("  server floor (500-row UPDATE statements, no client work): " + fmt(floor_one * 1e6, 1) +
      " us/row from one session, " + fmt(floor_two * 1e6, 1) +
      " us/row from two at once; so no rotate() can beat the batched naive loop by more than " +
      fmt(d["speedup_ceiling_vs_naive_batched"], 1) + "x here");
}

}  // namespace bench
