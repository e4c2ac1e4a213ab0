// What the extern "C" files share: the dhc_store handle and argument checks.
#pragma once

#include "errors.hpp"

#include <datahub/connections.h>
#include <datahub/store.hpp>

#include <cstdint>
#include <memory>

struct dhc_store {
  std::unique_ptr<datahub::ConnectionStore> store;
};

namespace dhc_capi {

inline datahub::ConnectionStore& store_of(dhc_store* s) {
  require(s, "store");
  return *s->store;
}

inline datahub::Secrets secrets_of(std::uint32_t flags) {
  if ((flags & ~DHC_REVEAL_SECRETS) != 0) {
    throw datahub::InvalidArgument("flags", "unknown flag bits");
  }
  return (flags & DHC_REVEAL_SECRETS) ? datahub::Secrets::reveal : datahub::Secrets::redact;
}

// Clears *out_json first, so that it is NULL on every failure, and checks it is given.
inline void start_output(char** out_json) {
  require(out_json, "out_json");
  *out_json = nullptr;
}

}  // namespace dhc_capi
