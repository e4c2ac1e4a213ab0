// Shared by the update race tests: a store with sessions to spare, a one-field patch.
#pragma once

#include "store/support.hpp"

#include <memory>
#include <string>

namespace test {

// Enough sessions that no thread of a test waits for one: the races are on the row.
inline std::unique_ptr<datahub::ConnectionStore> open_pooled_store(std::shared_ptr<const datahub::KeyProvider> keys) {
  datahub::StoreOptions options;
  options.database = test::database();
  options.pool_size = 10;
  options.keys = std::move(keys);
  return std::make_unique<datahub::ConnectionStore>(options);
}

inline datahub::ConnectionPatch set_detail(const std::string& field, const std::string& value) {
  datahub::ConnectionPatch p;
  p.details.set(field, value);
  return p;
}

}  // namespace test
