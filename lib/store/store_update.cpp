// ConnectionStore::update: a read-check-write in one transaction, under a row lock.
#include "model/validation.hpp"
#include "store/sql_error.hpp"
#include "store/store_impl.hpp"

#include <datahub/connection_type.hpp>
#include <datahub/error.hpp>

namespace datahub {
namespace {

// Applies the patch's details to the stored ones, field by field (JSON merge patch).
Details merge_details(Details current, const ConnectionPatch& patch) {
  for (const auto& name : patch.details_remove) current.erase(name);
  for (const auto& [name, value] : patch.details) {
    if (const auto* s = std::get_if<std::string>(&value)) {
      current.set(name, *s);
    } else {
      current.set(name, std::get<std::int64_t>(value));
    }
  }
  return current;
}

}  // namespace

Connection ConnectionStore::Impl::update(std::int64_t id, const ConnectionPatch& patch,
                                         std::string_view actor, const Timestamp* expected) {
  require_possible_id(id);
  model::check_actor(actor, "updated_by");
  if (patch.name) model::check_name(*patch.name);
  if (patch.description && *patch.description) model::check_description(**patch.description);
  std::optional<std::string> tags_json;
  if (patch.tags) tags_json = store::tags_to_json(model::normalize_tags(*patch.tags));
  for (const auto& name : patch.details_remove) {
    if (patch.details.find(name))
      throw InvalidArgument("connection_details." + name, "is both set and removed");
  }

  try {
    auto lease = pool.lease();
    soci::session& sql = lease.session();
    soci::transaction tx(sql);
    store::Params params;
    auto rows = store::fetch_rows(lease, std::string("SELECT ") + store::kRowColumns +
                                             " FROM database_connections WHERE id = CAST(" + params.add(id) +
                                             " AS bigint) FOR UPDATE",
                                  params, "update");
    if (rows.empty()) throw no_connection(id);
    store::StoredRow& row = rows.front();
    if (expected && expected->time_since_epoch().count() != row.updated_us) {
      throw Conflict("connection " + std::to_string(id) + " was changed since it was read");
    }

    crypto::Envelope envelope;
    Details details = codec.open(row.envelope, row.id, &envelope);
    const bool details_changed = !patch.details.empty() || !patch.details_remove.empty();
    const bool stale = envelope.kid != codec.keys().primary_key_id();
    if (details_changed) details = connection_type(row.type).validate(merge_details(details, patch));
    // A stale row is re-sealed under the primary key on its next write.
    std::string new_envelope = (details_changed || stale) ? codec.seal(details, row.id) : row.envelope;

    std::string name = patch.name.value_or(row.name);
    std::optional<std::string> description = patch.description ? *patch.description : row.description;
    std::string description_text = description.value_or("");
    soci::indicator description_ind = description ? soci::i_ok : soci::i_null;
    std::string tags = tags_json.value_or(row.tags_json);
    std::string by(actor);
    long long row_id = row.id, created_us = 0, updated_us = 0;
    // updated_at always moves forward, even when the clock does not (same transaction
    // time, clock steps back): optimistic checks rely on it changing.
    sql << "UPDATE database_connections SET name = :name, description = :description, "
           "tags = ARRAY(SELECT jsonb_array_elements_text(CAST(:tags AS jsonb))), "
           "connection_details = CAST(:details AS jsonb), updated_by = :updated_by, "
           "updated_at = GREATEST(CURRENT_TIMESTAMP, updated_at + interval '1 microsecond') "
           "WHERE id = CAST(:id AS bigint) "
           "RETURNING CAST(extract(epoch FROM created_at) * 1000000 AS bigint), "
           "CAST(extract(epoch FROM updated_at) * 1000000 AS bigint)",
        soci::use(name, "name"), soci::use(description_text, description_ind, "description"),
        soci::use(tags, "tags"), soci::use(new_envelope, "details"), soci::use(by, "updated_by"),
        soci::use(row_id, "id"), soci::into(created_us), soci::into(updated_us);
    tx.commit();

    Connection c;
    c.id = row.id;
    c.name = name;
    c.description = description;
    c.type = row.type;
    c.details = std::move(details);
    c.redacted = store::redact(c.details, c.type);
    c.tags = store::tags_from_json(tags);
    c.created_at = Timestamp(std::chrono::microseconds(created_us));
    c.created_by = row.created_by;
    c.updated_at = Timestamp(std::chrono::microseconds(updated_us));
    c.updated_by = by;
    c.key_id = (details_changed || stale) ? codec.keys().primary_key_id() : envelope.kid;
    c.alg = (details_changed || stale) ? options.cipher : envelope.alg;
    return c;
  } catch (...) {
    store::rethrow_as_datahub_error("update");
  }
}

}  // namespace datahub
