// The registry of connection types and the validation of their details.
#include "model/text.hpp"

#include <datahub/connection_type.hpp>
#include <datahub/error.hpp>

#include <algorithm>
#include <array>

namespace datahub {
namespace {

FieldSpec string_field(std::string name, bool required, std::size_t max_chars, bool secret = false) {
  FieldSpec f;
  f.name = std::move(name);
  f.required = required;
  f.max_chars = max_chars;
  f.secret = secret;
  return f;
}

// PostgreSQL cuts identifiers at NAMEDATALEN - 1 = 63 bytes, wherever that falls in a
// character: 63 characters of two bytes each would name another database.
FieldSpec identifier_field(std::string name, bool required) {
  FieldSpec f = string_field(std::move(name), required, 63);
  f.max_bytes = 63;
  return f;
}

FieldSpec integer_field(std::string name, std::int64_t min, std::int64_t max,
                        std::optional<std::int64_t> default_value = std::nullopt) {
  FieldSpec f;
  f.name = std::move(name);
  f.kind = FieldSpec::Kind::integer;
  f.min = min;
  f.max = max;
  f.default_value = default_value;
  return f;
}

ConnectionType postgresql_type() {
  ConnectionType t;
  t.name = "POSTGRESQL";
  // Limits follow libpq and PostgreSQL.
  t.fields.push_back(string_field("host", true, 255));
  t.fields.push_back(integer_field("port", 1, 65535, 5432));
  t.fields.push_back(identifier_field("database", true));
  t.fields.push_back(identifier_field("username", true));
  t.fields.push_back(string_field("password", false, 1024, /*secret=*/true));
  FieldSpec sslmode = string_field("sslmode", false, 16);
  sslmode.allowed = {"disable", "allow", "prefer", "require", "verify-ca", "verify-full"};
  t.fields.push_back(sslmode);
  t.fields.push_back(integer_field("connect_timeout", 1, 3600));
  t.fields.push_back(identifier_field("application_name", false));
  return t;
}

// An array, not a vector: copying ConnectionTypes into a vector instantiates a std::
// function template returning ConnectionType*, which the export map's datahub::* pattern
// would export (tests/capi/check_exports.sh).
const std::array<ConnectionType, 1>& registry() {
  static const std::array<ConnectionType, 1> types{postgresql_type()};
  return types;
}

}  // namespace

const FieldSpec* ConnectionType::field(std::string_view field_name) const noexcept {
  for (const auto& f : fields) {
    if (f.name == field_name) return &f;
  }
  return nullptr;
}

Details ConnectionType::validate(const Details& details) const {
  for (const auto& [key, value] : details) {
    if (!field(key)) {
      throw InvalidArgument("connection_details." + model::name_for_message(key), "is not a field of type " + name);
    }
  }
  Details normalized;
  for (const auto& spec : fields) {
    const std::string path = "connection_details." + spec.name;
    const Details::Value* value = details.find(spec.name);
    if (!value) {
      if (spec.required) throw InvalidArgument(path, "is required");
      if (spec.default_value) normalized.set(spec.name, *spec.default_value);
      continue;
    }
    if (spec.kind == FieldSpec::Kind::integer) {
      const auto* number = std::get_if<std::int64_t>(value);
      if (!number) throw InvalidArgument(path, "must be an integer");
      if (*number < spec.min || *number > spec.max) {
        throw InvalidArgument(path, "must be between " + std::to_string(spec.min) + " and " +
                                        std::to_string(spec.max));
      }
      normalized.set(spec.name, *number);
      continue;
    }
    const auto* text = std::get_if<std::string>(value);
    if (!text) throw InvalidArgument(path, "must be a string");
    // Never echo the value: it may be a password.
    model::check_text(*text, path, spec.required ? 1 : 0, spec.max_chars);
    if (spec.max_bytes && text->size() > spec.max_bytes)
      throw InvalidArgument(path, "must be at most " + std::to_string(spec.max_bytes) + " bytes of UTF-8");
    if (!spec.allowed.empty() &&
        std::find(spec.allowed.begin(), spec.allowed.end(), *text) == spec.allowed.end()) {
      std::string list;
      for (const auto& a : spec.allowed) list += (list.empty() ? "" : ", ") + a;
      throw InvalidArgument(path, "must be one of " + list);
    }
    normalized.set(spec.name, *text);
  }
  return normalized;
}

std::vector<std::string> ConnectionType::secrets_present(const Details& details) const {
  std::vector<std::string> names;
  for (const auto& spec : fields) {
    if (spec.secret && details.find(spec.name)) names.push_back(spec.name);
  }
  return names;
}

const ConnectionType& connection_type(std::string_view type_name) {
  for (const auto& t : registry()) {
    if (t.name == type_name) return t;
  }
  std::string known;
  for (const auto& t : registry()) known += (known.empty() ? "" : ", ") + t.name;
  throw InvalidArgument("type", "must be one of " + known);
}

std::vector<std::string> connection_type_names() {
  std::vector<std::string> names;
  for (const auto& t : registry()) names.push_back(t.name);
  return names;
}

}  // namespace datahub
