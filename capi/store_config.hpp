// dhc_store_open's config_json -> datahub::StoreOptions, including the key provider.
#pragma once

#include <datahub/store.hpp>

namespace dhc_capi {

enum class KeySource { config, host };  // "keys" in the config, or a host provider

// Throws InvalidArgument naming the field; never quotes key material.
datahub::StoreOptions parse_store_config(const char* json, KeySource source);

}  // namespace dhc_capi
