// The benchmark's workload (keys, records, COPY lines), its options' helpers, and the
// child that measures streaming memory.
#include "bench.hpp"

#include "crypto/base64.hpp"
#include "store/rows.hpp"

#include <fstream>

namespace bench {
namespace {

std::string key_b64(std::uint8_t fill) {
  std::vector<std::uint8_t> k(32, fill);
  return crypto::base64_encode(k.data(), k.size());
}

std::vector<std::string> sample_tags(std::int64_t i, std::int64_t rows) {
  static const char* envs[] = {"production", "staging", "development"};
  return {envs[i % 3], "team-" + std::to_string(i % 50), "grp-" + std::to_string(i % tag_groups(rows))};
}

long status_kib(const char* field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  const std::string prefix = std::string(field) + ":";
  while (std::getline(in, line)) {
    if (line.rfind(prefix, 0) == 0) return std::atol(line.c_str() + prefix.size());
  }
  return -1;
}

}  // namespace

const std::string kKeys1 = "bench-k1:" + key_b64(0x11);
const std::string kKeys2 = "bench-k2:" + key_b64(0x22) + ",bench-k1:" + key_b64(0x11);
const std::string kKeys1Back = "bench-k1:" + key_b64(0x11) + ",bench-k2:" + key_b64(0x22);

Details sample_details(std::int64_t i) {
  Details d;
  d.set("host", "pg-" + std::to_string(i % 997) + ".prod.example.com");
  d.set("port", 5432);
  d.set("database", "warehouse_" + std::to_string(i % 100));
  d.set("username", "svc_reporting_" + std::to_string(i % 1000));
  d.set("password", "pw-" + std::to_string(i * 7919 % 1000003) + "-Xq8vL2mZr7");
  d.set("sslmode", "verify-full");
  d.set("connect_timeout", 10);
  d.set("application_name", "datahub-bench");
  return d;
}

std::int64_t tag_groups(std::int64_t rows) { return std::max<std::int64_t>(1, rows / 10); }

NewConnection sample_connection(std::int64_t i, std::int64_t rows) {
  NewConnection c;
  c.name = "conn-" + std::to_string(i);
  if (i % 2) c.description = "Replica of the reporting warehouse #" + std::to_string(i);
  c.type = "POSTGRESQL";
  c.details = sample_details(i);
  c.tags = sample_tags(i, rows);
  return c;
}

void copy_line(std::string& out, std::int64_t id, const NewConnection& c, const std::string& envelope) {
  out += std::to_string(id);
  out += '\t';
  out += c.name;
  out += '\t';
  out += c.description ? *c.description : std::string("\\N");
  out += '\t';
  out += c.type;
  out += '\t';
  out += envelope;
  out += "\t{";
  for (std::size_t t = 0; t < c.tags.size(); ++t) {
    if (t) out += ',';
    out += c.tags[t];
  }
  out += "}\tbench\tbench\n";
}

const char* const kCopySql =
    "COPY database_connections (id, name, description, type, connection_details, tags, created_by, updated_by) "
    "FROM STDIN";

std::string get_sql() {
  return std::string("SELECT ") + store::row_columns() + " FROM database_connections WHERE id = CAST($1 AS bigint)";
}

std::shared_ptr<StaticKeyring> keyring(const std::string& keys) { return StaticKeyring::from_string(keys, "bench"); }

StoreOptions store_options(const Options& o, const std::string& keys, std::size_t pool) {
  StoreOptions so;
  so.database = o.db;
  so.pool_size = pool;
  so.keys = keyring(keys);
  return so;
}

// Child mode: stream every row with for_each (decrypting) and report the extra peak RSS.
int child_rss(const Options& o) {
  ConnectionStore store(store_options(o, kKeys1, 1));
  ListQuery q;
  q.limit = 1000;
  // Warm up: one page, so the pool, prepared statements and allocator arenas exist.
  std::int64_t warm = 0;
  store.for_each(q, [&](const Connection&) { return ++warm < 1000; });
  const long base = status_kib("VmRSS");
  {
    std::ofstream clear("/proc/self/clear_refs");
    clear << "5";  // resets VmHWM to the current RSS
  }
  const long hwm_before = status_kib("VmHWM");
  std::int64_t rows = 0, opened = 0;
  std::size_t bytes = 0;
  const auto t0 = Clock::now();
  store.for_each(q, [&](const Connection& c) {
    ++rows;
    if (!c.error) ++opened;
    bytes += c.details.size();
    return true;
  });
  const double secs = seconds_since(t0);
  const long hwm = status_kib("VmHWM");
  std::printf("RSS base_kib=%ld hwm_before_kib=%ld hwm_kib=%ld rows=%lld opened=%lld seconds=%.3f fields=%zu\n", base,
              hwm_before, hwm, static_cast<long long>(rows), static_cast<long long>(opened), secs, bytes);
  return 0;
}

}  // namespace bench
