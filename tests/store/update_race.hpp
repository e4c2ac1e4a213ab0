// Shared by the update race tests: a store with sessions to spare, a one-field patch.
#pragma once

#include "store/support.hpp"

#include <atomic>
#include <memory>
#include <string>

namespace test {

// Enough sessions that no thread of a test waits for one: the races are on the row.
inline std::unique_ptr<datahub::ConnectionStore> open_pooled_store(std::shared_ptr<const datahub::KeyProvider> keys,
                                                                   datahub::LogCallback log = {}) {
  datahub::StoreOptions options;
  options.database = test::database();
  options.pool_size = 10;
  options.keys = std::move(keys);
  options.log = std::move(log);
  return std::make_unique<datahub::ConnectionStore>(options);
}

// Counts the store's "trying again" lines: how many times its updates lost to another
// writer and started over.
class RetryCounter {
 public:
  datahub::LogCallback callback() {
    return [this](datahub::LogLevel level, const std::string& message) {
      if (level == datahub::LogLevel::debug && message.find("; trying again") != std::string::npos) ++retries_;
    };
  }
  int retries() const { return retries_; }

 private:
  std::atomic<int> retries_{0};
};

inline datahub::ConnectionPatch set_detail(const std::string& field, const std::string& value) {
  datahub::ConnectionPatch p;
  p.details.set(field, value);
  return p;
}

}  // namespace test
