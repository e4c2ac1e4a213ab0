// Checks shared by the C ABI targets: what the writers of capi/json_codec.cpp produce must
// be strict JSON that reads back to the same record.
#pragma once

#include "fuzz_support.hpp"
#include "json_codec.hpp"
#include "secure_json.hpp"

#include <datahub/connections.h>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace fuzz {

inline std::vector<std::string> read_strings(const dhc_capi::Value& v) {
  FUZZ_CHECK(v.IsArray(), "expected an array");
  std::vector<std::string> out;
  for (const auto& s : v.GetArray()) {
    FUZZ_CHECK(s.IsString(), "expected a string");
    out.emplace_back(s.GetString(), s.GetStringLength());
  }
  return out;
}

// A details object of a written record, through the caller-side parser Details::from_json.
inline datahub::Details details_of(const dhc_capi::Value& v) {
  rapidjson::StringBuffer text;
  rapidjson::Writer<rapidjson::StringBuffer> w(text);
  v.Accept(w);
  return datahub::Details::from_json(std::string_view(text.GetString(), text.GetSize()));
}

// write_record(c), parsed back strictly, equals c in every field the C ABI carries.
inline void check_record_round_trip(const datahub::Connection& c) {
  const std::unique_ptr<char, void (*)(char*)> text(dhc_capi::write_record(c), dhc_string_free);
  FUZZ_CHECK(text != nullptr, "write_record returned NULL");
  dhc_capi::Document doc;
  try {
    dhc_capi::parse_strict(doc, text.get(), "record");
  } catch (const datahub::Error& e) {
    std::fprintf(stderr, "write_record wrote unreadable JSON: %s\n", e.what());
    FUZZ_CHECK(false, "write_record output does not parse");
  }
  FUZZ_CHECK(doc.IsObject(), "record is not an object");
  FUZZ_CHECK(doc["id"].GetInt64() == c.id, "id");
  FUZZ_CHECK(std::string(doc["name"].GetString(), doc["name"].GetStringLength()) == c.name, "name");
  if (c.description) {
    FUZZ_CHECK(doc["description"].IsString() &&
                   std::string(doc["description"].GetString(), doc["description"].GetStringLength()) ==
                       *c.description,
               "description");
  } else {
    FUZZ_CHECK(doc["description"].IsNull(), "null description");
  }
  FUZZ_CHECK(read_strings(doc["tags"]) == c.tags, "tags");
  FUZZ_CHECK(read_strings(doc["redacted"]) == c.redacted, "redacted");
  try {
    FUZZ_CHECK(details_of(doc["connection_details"]) == c.details, "connection_details");
  } catch (const datahub::Error& e) {
    std::fprintf(stderr, "Details::from_json rejected written details: %s\n", e.what());
    FUZZ_CHECK(false, "written connection_details do not read back");
  }
}

}  // namespace fuzz
