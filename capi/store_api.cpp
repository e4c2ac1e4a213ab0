// The extern "C" entry points: argument checks, then the C++ store, inside guarded().
#include "callback_provider.hpp"
#include "errors.hpp"
#include "json_codec.hpp"
#include "store_config.hpp"
#include "store_handle.hpp"

#include <datahub/connections.h>
#include <datahub/store.hpp>
#include <datahub/version.h>

#include <botan/mem_ops.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <utility>

namespace {

using dhc_capi::guarded;
using dhc_capi::require;
using dhc_capi::secrets_of;
using dhc_capi::start_output;
using dhc_capi::store_of;

dhc_code open_store(const char* config_json, const dhc_key_provider* provider, dhc_store** out,
                    dhc_error** err) {
  if (out != nullptr) *out = nullptr;
  return guarded(err, [&] {
    require(config_json, "config_json");
    require(out, "out");
    auto holder = std::make_unique<dhc_store>();
    if (provider == nullptr) {
      holder->store = std::make_unique<datahub::ConnectionStore>(
          dhc_capi::parse_store_config(config_json, dhc_capi::KeySource::config));
    } else {
      auto options = dhc_capi::parse_store_config(config_json, dhc_capi::KeySource::host);
      auto keys = std::make_shared<dhc_capi::CallbackProvider>(*provider);
      options.keys = keys;
      try {
        holder->store = std::make_unique<datahub::ConnectionStore>(std::move(options));
      } catch (...) {
        keys->disarm();  // on failure the host keeps user_data
        throw;
      }
    }
    *out = holder.release();
  });
}

}  // namespace

extern "C" {

DHC_API const char* dhc_version(void) { return DATAHUB_CONNECTIONS_VERSION_STRING; }

DHC_API void dhc_string_free(char* s) {
  if (s == nullptr) return;
  Botan::secure_scrub_memory(s, std::strlen(s));
  std::free(s);
}

DHC_API dhc_code dhc_store_open(const char* config_json, dhc_store** out, dhc_error** err) {
  return open_store(config_json, nullptr, out, err);
}

DHC_API dhc_code dhc_store_open_with_provider(const char* config_json,
                                              const dhc_key_provider* provider, dhc_store** out,
                                              dhc_error** err) {
  if (provider == nullptr) {
    if (out != nullptr) *out = nullptr;
    return dhc_capi::guarded(err, [] { require(nullptr, "provider"); });
  }
  return open_store(config_json, provider, out, err);
}

DHC_API void dhc_store_close(dhc_store* store) {
  // The destructor does not throw (ConnectionStore and the provider swallow their errors).
  delete store;
}

DHC_API dhc_code dhc_schema_migrate(dhc_store* store, dhc_error** err) {
  return guarded(err, [&] { store_of(store).migrate(); });
}

DHC_API dhc_code dhc_schema_status(dhc_store* store, int* current_version, int* latest_version,
                                   dhc_error** err) {
  return guarded(err, [&] {
    const datahub::SchemaStatus s = store_of(store).schema_status();
    if (current_version != nullptr) *current_version = s.current_version;
    if (latest_version != nullptr) *latest_version = s.latest_version;
  });
}

DHC_API dhc_code dhc_schema_rollback_indexes(dhc_store* store, dhc_error** err) {
  return guarded(err, [&] { store_of(store).rollback_indexes(); });
}

DHC_API dhc_code dhc_schema_drop_table(dhc_store* store, dhc_error** err) {
  return guarded(err, [&] { store_of(store).drop_table(); });
}

DHC_API dhc_code dhc_connection_create(dhc_store* store, const char* connection_json,
                                       const char* actor, char** out_json, dhc_error** err) {
  return guarded(err, [&] {
    start_output(out_json);
    auto& s = store_of(store);
    require(connection_json, "connection_json");
    require(actor, "actor");
    const datahub::NewConnection c = dhc_capi::parse_new_connection(connection_json);
    *out_json = dhc_capi::write_record(s.create(c, actor));
  });
}

DHC_API dhc_code dhc_connection_get(dhc_store* store, int64_t id, uint32_t flags, char** out_json,
                                    dhc_error** err) {
  return guarded(err, [&] {
    start_output(out_json);
    auto& s = store_of(store);
    *out_json = dhc_capi::write_record(s.get(id, secrets_of(flags)));
  });
}

DHC_API dhc_code dhc_connection_find_by_name(dhc_store* store, const char* name, uint32_t flags,
                                             char** out_json, dhc_error** err) {
  return guarded(err, [&] {
    start_output(out_json);
    auto& s = store_of(store);
    require(name, "name");
    *out_json = dhc_capi::write_items(s.find_by_name(name, secrets_of(flags)));
  });
}

DHC_API dhc_code dhc_connection_list(dhc_store* store, const char* query_json, uint32_t flags,
                                     char** out_json, dhc_error** err) {
  return guarded(err, [&] {
    start_output(out_json);
    auto& s = store_of(store);
    const datahub::ListQuery q = dhc_capi::parse_query(query_json);
    *out_json = dhc_capi::write_page(s.list(q, secrets_of(flags)));
  });
}

DHC_API dhc_code dhc_connection_update(dhc_store* store, int64_t id, const char* patch_json,
                                       const char* actor, char** out_json, dhc_error** err) {
  return guarded(err, [&] {
    start_output(out_json);
    auto& s = store_of(store);
    require(patch_json, "patch_json");
    require(actor, "actor");
    const dhc_capi::ParsedPatch p = dhc_capi::parse_patch(patch_json);
    *out_json = dhc_capi::write_record(p.force ? s.force_update(id, p.patch, actor)
                                               : s.update(id, p.patch, actor, *p.expected_updated_at));
  });
}

DHC_API dhc_code dhc_connection_delete(dhc_store* store, int64_t id, dhc_error** err) {
  return guarded(err, [&] { store_of(store).remove(id); });
}

}  // extern "C"
