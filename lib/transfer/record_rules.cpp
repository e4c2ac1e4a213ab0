#include "transfer/record_rules.hpp"

#include "model/text.hpp"
#include "model/validation.hpp"

#include <datahub/connection_type.hpp>
#include <datahub/error.hpp>

namespace datahub::transfer {

Connection check_restorable(const Connection& record) {
  if (record.id < 1 || record.id > 2147483647) throw InvalidArgument("id", "must be 1 to 2147483647 (SERIAL)");
  if (record.error) throw InvalidArgument("connection_details", "the record's details could not be opened");
  model::check_name(record.name);
  if (record.description) model::check_description(*record.description);
  model::check_actor(record.created_by, "created_by");
  model::check_actor(record.updated_by, "updated_by");
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
