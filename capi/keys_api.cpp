// The C ABI's key calls: census, rotate, verify.
#include "errors.hpp"
#include "json_read.hpp"
#include "secure_json.hpp"
#include "store_handle.hpp"

#include <datahub/connections.h>

#include <memory>

using dhc_capi::guarded;
using dhc_capi::require;

namespace {

datahub::RotateOptions parse_rotate_options(const char* json) {
  datahub::RotateOptions options;
  if (json == nullptr || *json == '\0') return options;
  dhc_capi::Document doc;
  dhc_capi::parse_strict(doc, json, "options_json");
  dhc_capi::check_object(doc, "options_json", {"batch_size", "dry_run", "reencrypt", "workers"});
  if (const auto* v = dhc_capi::member(doc, "batch_size")) {
    const std::int64_t n = dhc_capi::as_int64(*v, "batch_size");
    if (n < 1 || n > 10000) throw datahub::InvalidArgument("batch_size", "must be 1 to 10000");
    options.batch_size = static_cast<std::size_t>(n);
  }
  if (const auto* v = dhc_capi::member(doc, "workers")) {
    const std::int64_t n = dhc_capi::as_int64(*v, "workers");
    if (n < 1 || n > 16) throw datahub::InvalidArgument("workers", "must be 1 to 16");
    options.workers = static_cast<int>(n);
  }
  if (const auto* v = dhc_capi::member(doc, "dry_run")) options.dry_run = dhc_capi::as_bool(*v, "dry_run");
  if (const auto* v = dhc_capi::member(doc, "reencrypt")) options.reencrypt = dhc_capi::as_bool(*v, "reencrypt");
  return options;
}

char* write_rotate_report(const datahub::RotateReport& r) { return dhc_capi::to_c_string(datahub::to_json(r)); }

struct StopRequested {};  // a progress callback asked to stop

dhc_code rotate(dhc_store* store, const char* options_json, dhc_progress_callback progress,
                void* user_data, char** report_json, dhc_error** err) {
  return guarded(err, [&] {
    dhc_capi::start_output(report_json);
    auto& s = dhc_capi::store_of(store);
    datahub::RotateOptions options = parse_rotate_options(options_json);
    datahub::RotateReport last;
    bool stopped = false;
    if (progress) {
      options.progress = [&](const datahub::RotateReport& so_far) {
        last = so_far;
        if (stopped) return;  // the final totals after a stop: counted, not shown again
        std::unique_ptr<char, void (*)(char*)> json(write_rotate_report(so_far), dhc_string_free);
        if (progress(user_data, json.get()) != 0) {
          stopped = true;
          throw StopRequested{};
        }
      };
    }
    try {
      last = s.rotate(options);
    } catch (const StopRequested&) {
      // Stopping is the caller's choice, not a failure: report what was done.
    }
    *report_json = write_rotate_report(last);
  });
}

}  // namespace

extern "C" {

DHC_API dhc_code dhc_keys_census(dhc_store* store, char** out_json, dhc_error** err) {
  return guarded(err, [&] {
    dhc_capi::start_output(out_json);
    *out_json = dhc_capi::to_c_string(datahub::to_json(dhc_capi::store_of(store).census()));
  });
}

DHC_API dhc_code dhc_keys_rotate(dhc_store* store, const char* options_json, char** report_json,
                                 dhc_error** err) {
  return rotate(store, options_json, nullptr, nullptr, report_json, err);
}

DHC_API dhc_code dhc_keys_rotate_with_progress(dhc_store* store, const char* options_json,
                                               dhc_progress_callback progress, void* user_data,
                                               char** report_json, dhc_error** err) {
  if (progress == nullptr) {
    if (report_json != nullptr) *report_json = nullptr;
    return guarded(err, [] { require(nullptr, "progress"); });
  }
  return rotate(store, options_json, progress, user_data, report_json, err);
}

DHC_API dhc_code dhc_keys_verify(dhc_store* store, char** report_json, dhc_error** err) {
  return guarded(err, [&] {
    dhc_capi::start_output(report_json);
    *report_json = dhc_capi::to_c_string(datahub::to_json(dhc_capi::store_of(store).verify()));
  });
}

}  // extern "C"
