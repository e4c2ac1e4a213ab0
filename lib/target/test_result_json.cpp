// TestResult -> JSON, for dhconn --json and the C ABI.
#include <datahub/target.hpp>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdio>
#include <cstring>

namespace datahub {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void string_or_null(Writer& w, const char* key, const std::string& value, bool present) {
  w.Key(key);
  if (present) {
    w.String(value.c_str(), static_cast<rapidjson::SizeType>(value.size()));
  } else {
    w.Null();
  }
}

}  // namespace

std::string to_json(const TestResult& r) {
  // Microseconds as milliseconds with three decimals: exact and readable. RapidJSON has
  // no fixed-decimal output, so the number is formatted here and written raw.
  const long long us = r.latency.count();
  char latency[32];
  std::snprintf(latency, sizeof latency, "%lld.%03lld", us / 1000, us % 1000);

  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  w.Key("ok");
  w.Bool(r.ok);
  w.Key("latency_ms");
  w.RawValue(latency, std::strlen(latency), rapidjson::kNumberType);
  string_or_null(w, "server_version", r.server_version, r.ok);
  w.Key("server_version_num");
  if (r.ok) {
    w.Int(r.server_version_num);
  } else {
    w.Null();
  }
  string_or_null(w, "failure", to_string(r.failure), !r.ok);
  string_or_null(w, "sqlstate", r.sqlstate, !r.ok && !r.sqlstate.empty());
  string_or_null(w, "message", r.message, !r.ok);
  w.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

}  // namespace datahub
