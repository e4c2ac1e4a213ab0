// Details <-> JSON, for the encrypted payload and for the C ABI.
#pragma once

#include <datahub/bytes.hpp>
#include <datahub/details.hpp>

#include <rapidjson/document.h>

#include <string>

namespace datahub::model {

// A RapidJSON output stream into wiped memory.
struct SecretSink {
  using Ch = char;
  SecretBytes& out;
  void Put(char c) { out.push_back(static_cast<std::uint8_t>(c)); }
  void Flush() {}
};

// A flat object of strings and integers. Throws InvalidArgument(field, ...).
Details details_from_json_value(const rapidjson::Value& object, const std::string& field);

// Compact JSON written straight into wiped memory, NUL-terminated (the NUL is not
// counted in the returned vector's size).
SecretBytes details_to_secret_json(const Details& details);

// Parses what details_to_secret_json wrote, in place (no copies left in unwiped memory).
// Throws Integrity: the caller has already authenticated it, so a failure is our bug or
// a forged-but-authenticated payload.
Details details_from_secret_json(SecretBytes& json);

}  // namespace datahub::model
