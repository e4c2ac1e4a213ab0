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

using dhc_capi::Buffer;
using dhc_capi::Writer;

datahub::RotateOptions parse_rotate_options(const char* json) {
  datahub::RotateOptions options;
  if (json == nullptr || *json == '\0') return options;
  dhc_capi::Document doc;
  dhc_capi::parse_strict(doc, json, "options_json");
  dhc_capi::check_object(doc, "options_json", {"batch_size", "dry_run", "reencrypt"});
  if (const auto* v = dhc_capi::member(doc, "batch_size")) {
    const std::int64_t n = dhc_capi::as_int64(*v, "batch_size");
    if (n < 1 || n > 10000) throw datahub::InvalidArgument("batch_size", "must be 1 to 10000");
    options.batch_size = static_cast<std::size_t>(n);
  }
  if (const auto* v = dhc_capi::member(doc, "dry_run")) options.dry_run = dhc_capi::as_bool(*v, "dry_run");
  if (const auto* v = dhc_capi::member(doc, "reencrypt")) options.reencrypt = dhc_capi::as_bool(*v, "reencrypt");
  return options;
}

void key(Writer& w, const char* name, std::int64_t value) {
  w.Key(name);
  w.Int64(value);
}

char* write_rotate_report(const datahub::RotateReport& r) {
  Buffer buffer;
  Writer w(buffer);
  w.StartObject();
  key(w, "scanned", r.scanned);
  key(w, "rewritten", r.rewritten);
  key(w, "skipped_changed", r.skipped_changed);
  key(w, "failed", r.failed);
  key(w, "remaining_estimate", r.remaining_estimate);
  w.EndObject();
  return dhc_capi::to_c_string(buffer);
}

struct StopRequested {};  // a progress callback asked to stop

dhc_code rotate(dhc_store* store, const char* options_json, dhc_progress_callback progress,
                void* user_data, char** report_json, dhc_error** err) {
  return guarded(err, [&] {
    dhc_capi::start_output(report_json);
    auto& s = dhc_capi::store_of(store);
    datahub::RotateOptions options = parse_rotate_options(options_json);
    datahub::RotateReport last;
    if (progress) {
      options.progress = [&](const datahub::RotateReport& so_far) {
        last = so_far;
        std::unique_ptr<char, void (*)(char*)> json(write_rotate_report(so_far), dhc_string_free);
        if (progress(user_data, json.get()) != 0) throw StopRequested{};
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
    const datahub::KeyCensus census = dhc_capi::store_of(store).census();
    Buffer buffer;
    Writer w(buffer);
    w.StartObject();
    w.Key("primary");
    w.String(census.primary_key_id.c_str(), static_cast<rapidjson::SizeType>(census.primary_key_id.size()));
    w.Key("keys");
    w.StartArray();
    for (const auto& e : census.keys) {
      w.StartObject();
      w.Key("kid");
      w.String(e.key_id.c_str(), static_cast<rapidjson::SizeType>(e.key_id.size()));
      w.Key("alg");
      w.String(e.alg.c_str(), static_cast<rapidjson::SizeType>(e.alg.size()));
      key(w, "rows", e.rows);
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
    *out_json = dhc_capi::to_c_string(buffer);
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
    const datahub::VerifyReport report = dhc_capi::store_of(store).verify();
    Buffer buffer;
    Writer w(buffer);
    w.StartObject();
    key(w, "checked", report.checked);
    w.Key("failed");
    w.StartArray();
    for (const auto& f : report.failed) {
      w.StartObject();
      key(w, "id", f.id);
      key(w, "code", static_cast<int>(f.code));
      w.Key("message");
      w.String(f.message.c_str(), static_cast<rapidjson::SizeType>(f.message.size()));
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
    *report_json = dhc_capi::to_c_string(buffer);
  });
}

}  // extern "C"
