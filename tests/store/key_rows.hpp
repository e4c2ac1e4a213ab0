// Rows for the key-management tests (keys_test.cpp, rotation_edges_test.cpp): a table
// filled under one key, and its census as a map.
#pragma once

#include "store/support.hpp"

#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace test {

// Fills the table with `n` rows sealed under `keys`, fast: commits need not wait for fsync here.
inline std::vector<std::int64_t> populate(std::shared_ptr<const datahub::KeyProvider> keys, int n) {
  datahub::StoreOptions options;
  options.database = test::database() + " options=-csynchronous_commit=off";
  options.keys = std::move(keys);
  options.pool_size = 4;
  datahub::ConnectionStore fast(options);
  std::vector<std::int64_t> ids(static_cast<std::size_t>(n));
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = t; i < n; i += 4) {
        ids[static_cast<std::size_t>(i)] = fast.create(test::sample("row " + std::to_string(i), "initial-" + std::to_string(i)), "loader").id;
      }
    });
  }
  for (auto& th : threads) th.join();
  return ids;
}

// The census as {"kid/alg": rows}.
inline std::map<std::string, std::int64_t> rows_per_key(datahub::ConnectionStore& store) {
  std::map<std::string, std::int64_t> out;
  for (const auto& e : store.census().keys) out[e.key_id + "/" + e.alg] += e.rows;
  return out;
}

}  // namespace test
