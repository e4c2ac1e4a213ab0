// Section "rotate": rotate() against a per-row SELECT + UPDATE loop, and against two floors
// measured with bare libpq: the server rewriting the column with no client at all, and a
// re-wrap with nothing of the SDK but its codec.
#include "bench.hpp"

#include "store/record_codec.hpp"
#include "store/rotate_sql.hpp"
#include "store/rows.hpp"

#include <future>

namespace bench {
namespace {

constexpr std::int64_t kBatch = 500;  // rotate()'s default batch_size

// Seconds per row of `rewrite_range` over ids [1, rows], from one session and then from
// two at once, each on half of the ids (the machine has two cores, so a rotate() with two
// workers could use both). Each session first runs once untimed over its rows: a new
// backend pays a page fault on its first touch of each shared buffer, which on this VM
// made a 500-row read five times slower than on a session that had run before.
template <typename RewriteRange>
std::pair<double, double> one_and_two_sessions(const std::string& db, std::int64_t rows, std::int64_t rows_per_pass,
                                               const RewriteRange& rewrite_range) {
  PgConn first(db), second(db);
  const std::int64_t half = rows / 2;
  rewrite_range(first, 1, rows + 1);
  rewrite_range(second, half + 1, rows + 1);
  const auto t0 = Clock::now();
  rewrite_range(first, 1, rows + 1);
  const double one = seconds_since(t0) / static_cast<double>(rows_per_pass);
  const auto t1 = Clock::now();
  auto other = std::async(std::launch::async, [&] { rewrite_range(second, half + 1, rows + 1); });
  rewrite_range(first, 1, half + 1);
  other.get();  // its exception, if any, reaches the caller
  return {one, seconds_since(t1) / static_cast<double>(rows_per_pass)};
}

// The server rewriting connection_details in 500-row statements, with nothing sent per row:
// a key added, then removed (two updates per row).
void rewrite_column(PgConn& conn, std::int64_t first_id, std::int64_t end_id) {
  for (const char* change : {"connection_details || '{\"floor\": 1}'", "connection_details - 'floor'"}) {
    for (std::int64_t first = first_id; first < end_id; first += kBatch) {
      conn.query(std::string("UPDATE database_connections SET connection_details = ") + change + " WHERE id >= " +
                 std::to_string(first) + " AND id < " + std::to_string(std::min(first + kBatch, end_id)));
    }
  }
}

// A re-wrap with bare libpq and nothing else of the SDK: each 500-id range's key ids and
// wrapped keys read (the columns rotate() reads), each data key unwrapped and wrapped again
// by the codec, and the batch written by rotate()'s own statement (each row checked
// unchanged since read). Under the key the rows are on, so every pass does the same work.
struct BareRewrap {
  const store::RecordCodec& codec;

  void operator()(PgConn& conn, std::int64_t first_id, std::int64_t end_id) const {
    conn.prepare("rewrap_read",
                 "SELECT id, connection_details->>'kid', connection_details->>'edk', "
                 "CASE WHEN jsonb_typeof(connection_details->'kid') = 'string' AND "
                 "jsonb_typeof(connection_details->'edk') = 'string' THEN CAST(connection_details->'v' AS text) END "
                 "FROM database_connections WHERE id >= CAST($1 AS bigint) AND id < CAST($2 AS bigint) "
                 "AND connection_details->>'kid' IS DISTINCT FROM $3 ORDER BY id");
    conn.prepare("rewrap_write", datahub::store::kRewrapBatchSql);
    for (std::int64_t first = first_id; first < end_id; first += kBatch) {
      const std::string low = std::to_string(first), high = std::to_string(std::min(first + kBatch, end_id));
      PGresult* read = conn.exec_prepared("rewrap_read", {low.c_str(), high.c_str(), "no such key"});
      std::string ids, kids, edks, new_kids, new_edks;
      for (int i = 0; i < PQntuples(read); ++i) {
        const store::WrappedKeyRow row{std::atoll(PQgetvalue(read, i, 0)), PQgetvalue(read, i, 1),
                                       PQgetvalue(read, i, 2), PQgetvalue(read, i, 3), {}};
        const auto moved = codec.rewrap_key(row);
        const char* separator = i ? "," : "";
        (ids += separator) += std::to_string(row.id);
        (kids += separator) += row.kid;
        (edks += separator) += row.edk;
        (new_kids += separator) += moved.kid;
        (new_edks += separator) += moved.edk;
      }
      const int rows_read = PQntuples(read);
      PQclear(read);
      PGresult* written = conn.exec_prepared(
          "rewrap_write", {ids.c_str(), kids.c_str(), edks.c_str(), new_kids.c_str(), new_edks.c_str()});
      const int rows_written = PQntuples(written);
      PQclear(written);
      if (rows_written != rows_read) throw std::runtime_error("bare re-wrap: a row read was not written back");
    }
  }
};

}  // namespace

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
  const std::int64_t sample_b = std::max<std::int64_t>(kBatch, sample / 10);
  const double naive_a = naive(1, sample, kBatch);
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

  // The floors, on the first 20k rows (in cache, so if anything lower than over the whole
  // table). The better of one and two sessions bounds what any rotate() could reach.
  const std::int64_t floor_rows = std::min<std::int64_t>(o_.rows, 20000);
  const auto [floor_one, floor_two] = one_and_two_sessions(o_.db, floor_rows, 2 * floor_rows, rewrite_column);
  const double floor_per_row = std::min(floor_one, floor_two);
  d["server_floor_us_per_row_one_session"] = floor_one * 1e6;
  d["server_floor_us_per_row_two_sessions"] = floor_two * 1e6;
  d["server_floor_us_per_row"] = floor_per_row * 1e6;
  d["speedup_ceiling_vs_naive_batched"] = naive_a / floor_per_row;
  say("  server floor (500-row UPDATE statements, nothing sent per row): " + fmt(floor_one * 1e6, 1) +
      " us/row from one session, " + fmt(floor_two * 1e6, 1) + " us/row from two at once; naive / floor " +
      fmt(d["speedup_ceiling_vs_naive_batched"], 1) + "x");
  const store::RecordCodec same_key(keyring(kKeys1Back), "A256GCM");  // the rows are on bench-k1 now
  const auto [bare_one, bare_two] = one_and_two_sessions(o_.db, floor_rows, floor_rows, BareRewrap{same_key});
  const double bare_per_row = std::min(bare_one, bare_two);
  d["bare_rewrap_us_per_row_one_session"] = bare_one * 1e6;
  d["bare_rewrap_us_per_row_two_sessions"] = bare_two * 1e6;
  d["bare_rewrap_us_per_row"] = bare_per_row * 1e6;
  d["speedup_ceiling_bare_rewrap"] = naive_a / bare_per_row;
  d["rotate_vs_bare_rewrap"] = per_row / bare_per_row;
  say("  bare re-wrap (libpq, rotate()'s statements, keys unwrapped and wrapped, no SDK): " + fmt(bare_one * 1e6, 1) +
      " us/row from one session, " + fmt(bare_two * 1e6, 1) + " us/row from two; naive / bare " +
      fmt(d["speedup_ceiling_bare_rewrap"], 1) + "x; rotate() takes " + fmt(d["rotate_vs_bare_rewrap"], 2) +
      "x its time");
}

}  // namespace bench
