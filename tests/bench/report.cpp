// The results: the table printed at the end and bench-results.json.
#include "bench.hpp"

#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include <fstream>
#include <stdexcept>

namespace bench {
namespace {

// The targets.
struct Target {
  const char* key;
  const char* op;
  double value;
};
constexpr Target kTargets[] = {
    {"get_vs_libpq_ratio", "<=", 1.10},       {"crypto_us_per_record", "<=", 3.0},
    {"bulk_vs_copy_ratio", ">=", 0.5},        {"rotation_vs_naive_speedup", ">=", 20},
    {"tag_search_p50_ms", "<=", 2.0},         {"pool_vs_pgbench_ratio", ">=", 0.8},
    {"list_1m_peak_rss_mib", "<=", 64},
};

bool met(const Target& t, double v) { return std::string(t.op) == "<=" ? v <= t.value : v >= t.value; }

}  // namespace

void Bench::table() {
  say("\n== results (" + std::string(o_.quick ? "quick" : "full") + ", " + std::to_string(o_.rows) + " rows)");
  std::printf("%-28s %12s %10s  %s\n", "key", "value", "target", "status");
  for (const auto& t : kTargets) {
    auto it = r_.keys.find(t.key);
    if (it == r_.keys.end()) {
      std::printf("%-28s %12s %3s %6g  %s\n", t.key, "-", t.op, t.value, "not run");
      continue;
    }
    std::printf("%-28s %12.3f %3s %6g  %s\n", t.key, it->second, t.op, t.value, met(t, it->second) ? "met" : "MISSED");
  }
  std::fflush(stdout);
}

void Bench::write_json() {
  rapidjson::StringBuffer buffer;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buffer);
  w.StartObject();
  for (const auto& [k, v] : r_.keys) {
    w.Key(k.c_str());
    w.Double(v);
  }
  w.Key("mode");
  w.String(o_.quick ? "quick" : "full");
  w.Key("rows");
  w.Int64(o_.rows);
  w.Key("targets");
  w.StartObject();
  for (const auto& t : kTargets) {
    w.Key(t.key);
    w.StartObject();
    w.Key("target");
    w.String((std::string(t.op) + " " + fmt(t.value, 2)).c_str());
    auto it = r_.keys.find(t.key);
    w.Key("met");
    if (it == r_.keys.end()) w.Null();
    else w.Bool(met(t, it->second));
    w.EndObject();
  }
  w.EndObject();
  w.Key("settings");
  w.StartObject();
  for (const auto& [k, v] : r_.settings) {
    w.Key(k.c_str());
    w.String(v.c_str());
  }
  w.EndObject();
  w.Key("details");
  w.StartObject();
  for (const auto& [group, values] : r_.details) {
    w.Key(group.c_str());
    w.StartObject();
    for (const auto& [k, v] : values) {
      w.Key(k.c_str());
      w.Double(v);
    }
    w.EndObject();
  }
  w.EndObject();
  w.Key("info");
  w.StartObject();
  for (const auto& [k, v] : r_.info) {
    w.Key(k.c_str());
    w.String(v.c_str());
  }
  w.EndObject();
  w.Key("explain");
  w.StartArray();
  for (const auto& e : r_.explain) w.String(e.c_str());
  w.EndArray();
  w.EndObject();
  std::ofstream f(o_.out);
  f << buffer.GetString() << "\n";
  if (!f) throw std::runtime_error("cannot write " + o_.out);
  say("wrote " + o_.out);
}

}  // namespace bench
