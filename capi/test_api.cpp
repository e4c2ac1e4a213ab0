// The C ABI's calls that use a stored connection: test it, or turn it into a conninfo or URI.
#include "errors.hpp"
#include "json_read.hpp"
#include "secure_json.hpp"
#include "store_handle.hpp"

#include <datahub/connections.h>
#include <datahub/target.hpp>

#include <botan/mem_ops.h>

#include <string>

using dhc_capi::guarded;

namespace {

datahub::TestOptions parse_test_options(const char* json) {
  datahub::TestOptions options;
  if (json == nullptr || *json == '\0') return options;
  dhc_capi::Document doc;
  dhc_capi::parse_strict(doc, json, "options_json");
  dhc_capi::check_object(doc, "options_json", {"timeout_ms"});
  if (const auto* v = dhc_capi::member(doc, "timeout_ms")) {
    const std::int64_t ms = dhc_capi::as_int64(*v, "timeout_ms");
    // Checked here too, so the message names the field the caller wrote.
    if (ms < datahub::TestOptions::kMinTimeout.count() || ms > datahub::TestOptions::kMaxTimeout.count())
      throw datahub::InvalidArgument("timeout_ms", "must be from 100 to 3600000");
    options.timeout = std::chrono::milliseconds(ms);
  }
  return options;
}

// The conninfo or URI may hold the password: the caller gets a copy, ours is wiped.
char* copy_then_wipe(std::string text) {
  char* out = dhc_capi::to_c_string(text);
  Botan::secure_scrub_memory(text.data(), text.size());
  return out;
}

}  // namespace

extern "C" {

DHC_API dhc_code dhc_connection_test(dhc_store* store, int64_t id, const char* options_json,
                                     char** result_json, dhc_error** err) {
  return guarded(err, [&] {
    dhc_capi::start_output(result_json);
    auto& s = dhc_capi::store_of(store);
    *result_json = dhc_capi::to_c_string(datahub::to_json(datahub::test_connection(s, id, parse_test_options(options_json))));
  });
}

DHC_API dhc_code dhc_connection_conninfo(dhc_store* store, int64_t id, uint32_t flags, char** out,
                                         dhc_error** err) {
  return guarded(err, [&] {
    dhc_capi::start_output(out);
    *out = copy_then_wipe(datahub::to_conninfo(dhc_capi::store_of(store).get(id, dhc_capi::secrets_of(flags))));
  });
}

DHC_API dhc_code dhc_connection_uri(dhc_store* store, int64_t id, uint32_t flags, char** out, dhc_error** err) {
  return guarded(err, [&] {
    dhc_capi::start_output(out);
    *out = copy_then_wipe(datahub::to_uri(dhc_capi::store_of(store).get(id, dhc_capi::secrets_of(flags))));
  });
}

}  // extern "C"
