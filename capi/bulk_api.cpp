// The C ABI's bulk calls: create_many and for_each.
#include "errors.hpp"
#include "json_codec.hpp"
#include "store_handle.hpp"

#include <datahub/connections.h>

#include <cstdlib>
#include <memory>

using dhc_capi::guarded;
using dhc_capi::require;

extern "C" {

DHC_API dhc_code dhc_connection_create_many(dhc_store* store, const char* connections_json,
                                            const char* actor, char** out_json, dhc_error** err) {
  return guarded(err, [&] {
    dhc_capi::start_output(out_json);
    auto& s = dhc_capi::store_of(store);
    require(connections_json, "connections_json");
    require(actor, "actor");
    *out_json = dhc_capi::write_items(s.create_many(dhc_capi::parse_new_connections(connections_json), actor));
  });
}

DHC_API dhc_code dhc_connection_for_each(dhc_store* store, const char* query_json, uint32_t flags,
                                         dhc_record_callback callback, void* user_data,
                                         dhc_error** err) {
  return guarded(err, [&] {
    auto& s = dhc_capi::store_of(store);
    require(reinterpret_cast<const void*>(callback), "callback");
    const datahub::ListQuery q = dhc_capi::parse_query(query_json);
    s.for_each(q, [&](const datahub::Connection& c) {
      // Wiped and freed whatever the callback does, as it may hold a password.
      std::unique_ptr<char, void (*)(char*)> json(dhc_capi::write_record(c), dhc_string_free);
      return callback(user_data, json.get()) == 0;
    }, dhc_capi::secrets_of(flags));
  });
}

}  // extern "C"
