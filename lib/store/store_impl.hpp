// ConnectionStore's private state, shared by the files that implement it.
#pragma once

#include "store/record_codec.hpp"
#include "store/session_pool.hpp"

#include <datahub/store.hpp>

namespace datahub {

inline crypto::DekCachePolicy cache_policy(const DekCacheOptions& o) {
  return {std::chrono::duration_cast<std::chrono::steady_clock::duration>(o.ttl), o.max_uses, o.max_entries};
}

struct ConnectionStore::Impl {
  Impl(StoreOptions o)
      : options(std::move(o)),
        codec(options.keys, options.cipher, cache_policy(options.dek_cache)),
        log(options.log),
        pool(options.database, options.pool_size, options.connect_timeout, options.acquire_timeout, log) {}

  StoreOptions options;
  store::RecordCodec codec;
  store::Log log;
  store::SessionPool pool;

  Connection update(std::int64_t id, const ConnectionPatch& patch, std::string_view actor,
                    const Timestamp* expected_updated_at);
};

}  // namespace datahub
