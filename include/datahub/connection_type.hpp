// Connection types: what each `type` accepts in its details, and which fields are secret.
//
// POSTGRESQL is the one type today. Its fields: host (required), port (integer 1-65535,
// default 5432), database (required), username (required), password (optional, secret),
// sslmode (one of libpq's: disable allow prefer require verify-ca verify-full),
// connect_timeout (integer seconds, 1-3600) and application_name. Any other key is rejected.
#pragma once

#include <datahub/details.hpp>
#include <datahub/export.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace datahub {

struct FieldSpec {
  enum class Kind { string, integer };
  std::string name;
  Kind kind = Kind::string;
  bool required = false;
  bool secret = false;
  std::size_t max_chars = 255;               // strings
  std::size_t max_bytes = 0;                 // strings, in UTF-8 bytes; 0: no limit but max_chars
  std::int64_t min = 0, max = 0;             // integers
  std::optional<std::int64_t> default_value;  // integers given a default when absent
  std::vector<std::string> allowed;           // strings limited to a set, when not empty
};

struct DATAHUB_API ConnectionType {
  std::string name;  // the `type` column, at most 20 characters
  std::vector<FieldSpec> fields;

  // Checks details against the fields and returns them normalized: defaults filled in,
  // fields in declaration order. Throws InvalidArgument naming the offending field as
  // "connection_details.<field>".
  Details validate(const Details& details) const;

  const FieldSpec* field(std::string_view name) const noexcept;
  // Names of the secret fields that have a value in `details`.
  std::vector<std::string> secrets_present(const Details& details) const;
};

// The registered type called `name`; throws InvalidArgument("type", ...) when unknown.
DATAHUB_API const ConnectionType& connection_type(std::string_view name);

// Every registered type name ("POSTGRESQL", ...).
DATAHUB_API std::vector<std::string> connection_type_names();

}  // namespace datahub
