#include "store/support.hpp"

#include <botan/system_rng.h>
#include <soci/postgresql/soci-postgresql.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <mutex>
#include <thread>

namespace test {

const std::string& database() {
  static const std::string value = [] {
    const char* v = std::getenv("DATAHUB_TEST_DATABASE");
    if (!v || !*v) {
      std::cerr << "DATAHUB_TEST_DATABASE is not set; run tests/run.sh\n";
      std::exit(2);
    }
    return std::string(v);
  }();
  return value;
}

datahub::SecretBytes key_material(const std::string& id) {
  static std::mutex mutex;
  static std::map<std::string, datahub::SecretBytes> keys;
  std::lock_guard<std::mutex> lock(mutex);
  auto& key = keys[id];
  if (key.empty()) key = Botan::system_rng().random_vec(32);
  return key;
}

std::shared_ptr<datahub::StaticKeyring> keyring(const std::string& primary,
                                                std::initializer_list<std::string> ids) {
  std::vector<datahub::StaticKeyring::Key> keys;
  for (const auto& id : ids) keys.emplace_back(id, key_material(id));
  return std::make_shared<datahub::StaticKeyring>(primary, std::move(keys));
}

std::unique_ptr<datahub::ConnectionStore> open_store(std::shared_ptr<const datahub::KeyProvider> keys,
                                                     const std::string& cipher) {
  datahub::StoreOptions options;
  options.database = database();
  options.pool_size = 4;
  options.keys = std::move(keys);
  options.cipher = cipher;
  return std::make_unique<datahub::ConnectionStore>(options);
}

datahub::ConnectionStore& store() {
  static auto instance = [] {
    auto s = open_store(keyring());
    s->migrate();
    return s;
  }();
  return *instance;
}

soci::session& admin() {
  static soci::session session(soci::postgresql, database());
  // The fault tests restart the server; reconnect when our session did not survive it.
  try {
    session << "SELECT 1";
  } catch (const soci::soci_error&) {
    session.reconnect();
  }
  return session;
}

long long row_count() {
  long long n = 0;
  admin() << "SELECT count(*) FROM database_connections", soci::into(n);
  return n;
}

datahub::Bytes WrapWatcher::wrap(const std::string& kid, const datahub::SecretBytes& dek,
                                 const datahub::Bytes& aad) const {
  const int n = ++wraps;
  if (n == 1 && during_first_wrap) during_first_wrap();
  if (during_wrap) during_wrap(n);
  std::this_thread::sleep_for(delay_);
  return ForwardingProvider::wrap(kid, dek, aad);
}

bool row_lock_free(std::int64_t id) {
  try {
    soci::transaction tx(admin());
    admin() << "SELECT 1 FROM database_connections WHERE id = :id FOR UPDATE NOWAIT", soci::use(id);
    tx.rollback();
    return true;
  } catch (const soci::soci_error&) {
    return false;  // 55P03: locked
  }
}

void clear_table() {
  store();  // migrated
  admin() << "DELETE FROM database_connections";
}

std::string stored(std::int64_t id, const std::string& expression) {
  std::string text;
  admin() << "SELECT CAST(" + expression + " AS text) FROM database_connections WHERE id = :id", soci::use(id),
      soci::into(text);
  return text;
}

datahub::NewConnection sample(const std::string& name, const std::string& password) {
  datahub::NewConnection c;
  c.name = name;
  c.type = "POSTGRESQL";
  c.details.set("host", "db.internal.example").set("port", 6432).set("database", "main_db")
      .set("username", "app_user").set("password", password);
  c.tags = {"test"};
  return c;
}

std::vector<datahub::NewConnection> samples(const std::string& prefix, int n) {
  std::vector<datahub::NewConnection> out;
  for (int i = 0; i < n; ++i) out.push_back(sample(prefix + std::to_string(i)));
  return out;
}

std::string run(const std::string& command) {
  std::string out;
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return out;
  char buffer[4096];
  std::size_t n;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) out.append(buffer, n);
  pclose(pipe);
  return out;
}

RefuseName::RefuseName(const std::string& refused_name) {
  // DDL takes no bound parameters: the name goes in as a quoted literal.
  std::string literal = "'";
  for (char c : refused_name) literal += c == '\'' ? std::string("''") : std::string(1, c);
  admin() << "ALTER TABLE database_connections ADD CONSTRAINT datahub_test_refuse_name CHECK (name <> " + literal +
                 "'::text) NOT VALID";
}

RefuseName::~RefuseName() {
  admin() << "ALTER TABLE database_connections DROP CONSTRAINT IF EXISTS datahub_test_refuse_name";
}

}  // namespace test
