#include "transfer/record_rules.hpp"

#include "model/text.hpp"
#include "model/validation.hpp"

#include <datahub/connection_type.hpp>
#include <datahub/error.hpp>

namespace datahub::transfer {
namespace {

// Years 1-9999 in UTC, as parse_timestamp reads them: restore writes times as ISO 8601 text.
// Not the epoch itself: that is how a time the store cannot use (NULL, infinite, past 9999)
// reads, and restoring it would make 1970 of it.
void check_year(Timestamp t, const std::string& field) {
  constexpr std::int64_t kFirst = -62135596800LL * 1000000;     // 0001-01-01T00:00:00Z
  constexpr std::int64_t kLast = 253402300800LL * 1000000 - 1;  // 9999-12-31T23:59:59.999999Z
  const std::int64_t us = t.time_since_epoch().count();
  if (us < kFirst || us > kLast) throw InvalidArgument(field, "must be between the years 1 and 9999 (UTC)");
  if (us == 0)
    throw InvalidArgument(field, "is the epoch, which is how a NULL, infinite or out-of-range time in the table reads");
}

}  // namespace

Connection check_restorable(const Connection& record) {
  if (record.id < 1 || record.id > 2147483647) throw InvalidArgument("id", "must be 1 to 2147483647 (SERIAL)");
  if (record.error) throw InvalidArgument("connection_details", "the record's details could not be opened");
  if (!record.redacted.empty())  // read with Secrets::redact: restoring it would drop its secrets
    throw InvalidArgument("redacted", "the record's secrets were left out; read it with Secrets::reveal");
  model::check_name(record.name);
  if (record.description) model::check_description(*record.description);
  model::check_actor(record.created_by, "created_by");
  model::check_actor(record.updated_by, "updated_by");
  check_year(record.created_at, "created_at");
  check_year(record.updated_at, "updated_at");
  if (record.updated_at < record.created_at) throw InvalidArgument("updated_at", "is before created_at");
  Connection normalized = record;
  normalized.details = connection_type(record.type).validate(record.details);
  normalized.tags = model::normalize_tags(record.tags);
  return normalized;
}

std::string reason_of(const InvalidArgument& error) {
  const std::string what = error.what();
  const std::string prefix = error.field() + ": ";
  return what.rfind(prefix, 0) == 0 ? what.substr(prefix.size()) : what;
}

}  // namespace datahub::transfer
