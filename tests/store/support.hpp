// Shared fixtures for the integration tests: the test database, keys and a direct session.
#pragma once

#include <datahub/connections.hpp>

#include <soci/soci.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace test {

// DATAHUB_TEST_DATABASE; aborts the run when it is not set.
const std::string& database();

// Random 32-byte keys, the same for the whole run.
datahub::SecretBytes key_material(const std::string& id);
std::shared_ptr<datahub::StaticKeyring> keyring(const std::string& primary = "k1",
                                                std::initializer_list<std::string> ids = {"k1"});

// A store over the test database with keyring(), migrated, with an empty table.
datahub::ConnectionStore& store();
std::unique_ptr<datahub::ConnectionStore> open_store(std::shared_ptr<const datahub::KeyProvider> keys,
                                                     const std::string& cipher = "A256GCM");

// A key provider that forwards every call to a StaticKeyring; a test's provider derives
// from it and overrides what it watches or breaks.
class ForwardingProvider : public datahub::KeyProvider {
 public:
  explicit ForwardingProvider(std::shared_ptr<datahub::StaticKeyring> inner) : inner_(std::move(inner)) {}
  std::string primary_key_id() const override { return inner_->primary_key_id(); }
  datahub::Bytes wrap(const std::string& kid, const datahub::SecretBytes& dek, const datahub::Bytes& aad) const override {
    return inner_->wrap(kid, dek, aad);
  }
  datahub::SecretBytes unwrap(const std::string& kid, const datahub::Bytes& edk, const datahub::Bytes& aad) const override {
    return inner_->unwrap(kid, edk, aad);
  }

 private:
  std::shared_ptr<datahub::StaticKeyring> inner_;
};

// A forwarding provider that watches a write from inside its wrap(): counts the calls
// (one per seal), runs `during_first_wrap` inside the first and `during_wrap(n)` inside
// the n-th (after the write read its row, before it writes), then sleeps `delay`, which
// holds a write's read and its write apart for others to land in between.
class WrapWatcher : public ForwardingProvider {
 public:
  explicit WrapWatcher(std::shared_ptr<datahub::StaticKeyring> inner, std::chrono::milliseconds delay = {})
      : ForwardingProvider(std::move(inner)), delay_(delay) {}
  datahub::Bytes wrap(const std::string& kid, const datahub::SecretBytes& dek, const datahub::Bytes& aad) const override;
  mutable std::atomic<int> wraps{0};
  std::function<void()> during_first_wrap;
  std::function<void(int n)> during_wrap;

 private:
  std::chrono::milliseconds delay_;
};

// Whether another session could lock row `id` now (SELECT ... FOR UPDATE NOWAIT), that
// is, whether no transaction holds its row lock.
bool row_lock_free(std::int64_t id);

// A session of our own, to look at the table the way an attacker with SQL access would.
soci::session& admin();
long long row_count();
void clear_table();
// The text of a SQL `expression` over row `id`, read through admin(): what is stored.
std::string stored(std::int64_t id, const std::string& expression);

// A valid POSTGRESQL connection with a recognizable password.
datahub::NewConnection sample(const std::string& name, const std::string& password = "Pa55-word-MARKER");
// n samples named prefix0, prefix1, ...
std::vector<datahub::NewConnection> samples(const std::string& prefix, int n);

// A CHECK constraint on database_connections refusing rows named `refused_name`, dropped
// again when this goes out of scope: makes the server reject one row of a statement.
class RefuseName {
 public:
  explicit RefuseName(const std::string& refused_name);
  ~RefuseName();
  RefuseName(const RefuseName&) = delete;
  RefuseName& operator=(const RefuseName&) = delete;
};

// Runs a shell command and returns its standard output.
std::string run(const std::string& command);

}  // namespace test
