// Details validation: Details::from_json (the caller's JSON) and ConnectionType::validate
// (every registered type), plus the encrypted payload's JSON round trip.
// Bad input must be InvalidArgument; what validates must be a fixed point of validate and
// must survive details_to_secret_json -> details_from_secret_json and -> from_json.
#include "fuzz_support.hpp"
#include "model/details_json.hpp"

#include <datahub/connection_type.hpp>
#include <datahub/details.hpp>

#include <rapidjson/document.h>

#include <optional>
#include <string>
#include <string_view>

using datahub::ErrorCode;

namespace {

void check_payload_round_trip(const datahub::Details& d) {
  datahub::SecretBytes json = datahub::model::details_to_secret_json(d);
  const std::string_view text(reinterpret_cast<const char*>(json.data()), json.size());
  FUZZ_CHECK(datahub::Details::from_json(text) == d, "details_to_secret_json -> from_json");
  FUZZ_CHECK(datahub::model::details_from_secret_json(json) == d,
             "details_to_secret_json -> details_from_secret_json");
}

}  // namespace

// A reference reading of the same bytes: RapidJSON's strict DOM parse (one value, only
// whitespace after it, valid UTF-8) then the library's own object reader. Details::from_json
// must agree with it: same details, or both refuse.
std::optional<datahub::Details> reference(std::string_view json) {
  // A raw NUL can only sit outside the value (JSON strings cannot hold one): trailing junk.
  if (json.find('\0') != std::string_view::npos) return std::nullopt;
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseValidateEncodingFlag | rapidjson::kParseIterativeFlag>(json.data(), json.size());
  if (doc.HasParseError()) return std::nullopt;
  try {
    return datahub::model::details_from_json_value(doc, "connection_details");
  } catch (const datahub::Error& e) {
    fuzz::expect_code(e, {ErrorCode::invalid_argument});
    return std::nullopt;
  }
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view json(reinterpret_cast<const char*>(data), size);
  const std::optional<datahub::Details> expected = reference(json);
  datahub::Details d;
  try {
    d = datahub::Details::from_json(json);
  } catch (const datahub::Error& e) {
    fuzz::expect_code(e, {ErrorCode::invalid_argument});
    if (expected) std::fprintf(stderr, "Details::from_json refused valid details: %s\n", e.what());
    FUZZ_CHECK(!expected, "Details::from_json refused what the reference reads");
    return 0;
  }
  FUZZ_CHECK(expected && *expected == d, "Details::from_json accepted what the reference refuses, or differs");
  for (const auto& [name, value] : d) {
    FUZZ_CHECK(fuzz::valid_utf8(name) && name.find('\0') == std::string::npos, "field name");
    if (const auto* s = std::get_if<std::string>(&value)) {
      FUZZ_CHECK(fuzz::valid_utf8(*s) && s->find('\0') == std::string::npos, "string value");
    }
  }
  check_payload_round_trip(d);

  for (const std::string& type_name : datahub::connection_type_names()) {
    const datahub::ConnectionType& type = datahub::connection_type(type_name);
    datahub::Details v;
    try {
      v = type.validate(d);
    } catch (const datahub::Error& e) {
      fuzz::expect_code(e, {ErrorCode::invalid_argument});
      continue;
    }
    FUZZ_CHECK(type.validate(v) == v, "validate is not idempotent");
    for (const auto& [name, value] : v) {
      const datahub::FieldSpec* spec = type.field(name);
      FUZZ_CHECK(spec != nullptr, "validate kept an undeclared field");
      if (spec->kind == datahub::FieldSpec::Kind::integer) {
        const auto* n = std::get_if<std::int64_t>(&value);
        FUZZ_CHECK(n && *n >= spec->min && *n <= spec->max, "integer out of its range");
      } else {
        FUZZ_CHECK(std::holds_alternative<std::string>(value), "string field holds an integer");
      }
    }
    for (const auto& spec : type.fields) {
      if (spec.required) FUZZ_CHECK(v.find(spec.name) != nullptr, "required field missing");
    }
    for (const auto& secret : type.secrets_present(v)) {
      FUZZ_CHECK(type.field(secret) && type.field(secret)->secret, "secrets_present");
    }
    check_payload_round_trip(v);
  }
  return 0;
}
