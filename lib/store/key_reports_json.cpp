// The key reports as JSON: one writer for the C ABI and the CLI.
#include "model/record_json.hpp"

#include <datahub/key_rotation.hpp>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace datahub {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void count(Writer& w, const char* name, std::int64_t value) {
  w.Key(name);
  w.Int64(value);
}

std::string text_of(const rapidjson::StringBuffer& buffer) { return {buffer.GetString(), buffer.GetSize()}; }

}  // namespace

std::string to_json(const KeyCensus& census) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  w.Key("primary");
  model::write_text(w, census.primary_key_id);
  w.Key("keys");
  w.StartArray();
  for (const auto& e : census.keys) {
    w.StartObject();
    w.Key("kid");
    model::write_text(w, e.key_id);
    w.Key("alg");
    model::write_text(w, e.alg);
    count(w, "rows", e.rows);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return text_of(buffer);
}

std::string to_json(const RotateReport& r) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  count(w, "scanned", r.scanned);
  count(w, "rewritten", r.rewritten);
  count(w, "skipped_changed", r.skipped_changed);
  count(w, "failed", r.failed);
  count(w, "remaining_estimate", r.remaining_estimate);
  w.EndObject();
  return text_of(buffer);
}

std::string to_json(const VerifyReport& report) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  count(w, "checked", report.checked);
  w.Key("failed");
  w.StartArray();
  for (const auto& f : report.failed) {
    w.StartObject();
    count(w, "id", f.id);
    count(w, "code", static_cast<int>(f.code));
    w.Key("message");
    model::write_text(w, f.message);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return text_of(buffer);
}

}  // namespace datahub
