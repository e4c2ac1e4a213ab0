// Section "bulk": create_many against COPY of the same rows already sealed.
#include "bench.hpp"

#include "store/record_codec.hpp"

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

}  // namespace bench
