// ConnectionStore's private state, shared by the files that implement it.
#pragma once

#include "store/record_codec.hpp"
#include "store/session_pool.hpp"

#include <datahub/error.hpp>
#include <datahub/store.hpp>

#include <optional>
#include <string>

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
  // update()'s arguments, checked; and what one try made of the row's details, for the next.
  struct UpdateRequest;
  struct SealedDetails;
  // One try of update(): under the row lock (`locked`), or without one and written only if
  // the row is still the version read (std::nullopt when it is not).
  std::optional<Connection> attempt_update(store::SessionPool::Lease& lease, const UpdateRequest& request,
                                           std::optional<SealedDetails>& sealed, bool locked);
  SealedDetails seal_patched(const store::StoredRow& row, const ConnectionPatch& patch);
};

// "No connection with id N", also for an id no row can have (SERIAL ids are 1 to
// 2147483647): to a caller asking for one, it is simply not there.
inline NotFound no_connection(std::int64_t id) { return NotFound("no connection with id " + std::to_string(id)); }
inline void require_possible_id(std::int64_t id) {
  if (id < 1 || id > 2147483647) throw no_connection(id);
}

}  // namespace datahub
