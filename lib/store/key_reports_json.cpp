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

// One JSON object, its members written by `members(w)`.
template <class Members>
std::string object_json(Members&& members) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  members(w);
  w.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

}  // namespace

std::string to_json(const KeyCensus& census) {
  return object_json([&](Writer& w) {
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
  });
}

std::string to_json(const RotateReport& r) {
  return object_json([&](Writer& w) {
    count(w, "scanned", r.scanned);
    count(w, "rewritten", r.rewritten);
    count(w, "skipped_changed", r.skipped_changed);
    count(w, "failed", r.failed);
    count(w, "remaining_estimate", r.remaining_estimate);
  });
}

std::string to_json(const VerifyReport& report) {
  return object_json([&](Writer& w) {
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
  });
}

}  // namespace datahub
