// ConnectionStore::update: a read-check-write; the key provider is called with no row lock held.
#include "model/text.hpp"
#include "model/validation.hpp"
#include "store/pq.hpp"
#include "store/rows.hpp"
#include "store/sql_error.hpp"
#include "store/store_impl.hpp"

#include <datahub/connection_type.hpp>
#include <datahub/error.hpp>

#include <cstdlib>
#include <optional>

namespace datahub {
namespace {

// Applies the patch's details to the stored ones, field by field (JSON merge patch). A
// field removed must be one of the type's, or one the row holds (written by another client
// or an older version: removing it is how such a row is mended).
Details merge_details(Details current, const ConnectionPatch& patch, const ConnectionType& type) {
  for (const auto& name : patch.details_remove) {
    if (!type.field(name) && !current.find(name))
      throw InvalidArgument("connection_details." + model::name_for_message(name), "is not a field of type " + type.name);
    current.erase(name);
  }
  for (const auto& [name, value] : patch.details) {
    if (const auto* s = std::get_if<std::string>(&value)) {
      current.set(name, *s);
    } else {
      current.set(name, std::get<std::int64_t>(value));
    }
  }
  return current;
}

// Unlocked tries before the locked one (see update()).
constexpr int kUnlockedTries = 3;

}  // namespace

struct ConnectionStore::Impl::UpdateRequest {
  std::int64_t id = 0;
  const ConnectionPatch& patch;
  std::string_view actor;
  const Timestamp* expected = nullptr;    // updated_at as the caller read it; none for force_update
  std::optional<std::string> tags_json;  // the patch's tags, normalised, as a JSON array
};

// The details a try will write, made from the row's envelope and type as that try read them.
struct ConnectionStore::Impl::SealedDetails {
  std::string read_envelope;
  std::string read_type;
  Details details;       // patched and validated
  std::string envelope;  // sealed anew, or the one read when nothing needed it
  std::string kid;
  std::string alg;
};

ConnectionStore::Impl::SealedDetails ConnectionStore::Impl::seal_patched(const store::StoredRow& row,
                                                                         const ConnectionPatch& patch) {
  crypto::Envelope envelope;
  Details details = codec.open(row.envelope, row.id, &envelope);
  const bool details_changed = !patch.details.empty() || !patch.details_remove.empty();
  if (details_changed) {
    const ConnectionType& type = connection_type(row.type);
    details = type.validate(merge_details(std::move(details), patch, type));
  }
  // A stale row is re-sealed under the primary key on its next write. (Changed details
  // are re-sealed anyway: the provider is then asked for its primary once, by the seal.)
  const bool reseal = details_changed || envelope.kid != crypto::checked_primary_key_id(codec.keys());
  SealedDetails sealed{row.envelope, row.type, std::move(details), {}, envelope.kid, envelope.alg};
  if (reseal) {
    sealed.envelope = codec.seal(sealed.details, row.id, &sealed.kid);
    sealed.alg = options.cipher;
  } else {
    sealed.envelope = row.envelope;
  }
  return sealed;
}

// One attempt at an update. Locked: in a transaction, the row read under FOR UPDATE, and
// the write always happens (or fails). Unlocked: the row is read without a lock, and the
// write applies only if the row is still the version read: the same xmin (which every
// write of the row changes; as text, its exact decimal value) and the same updated_at
// (which every update moves forward: a second guard, for the day a row left untouched for
// 2^32 transactions meets a writer whose transaction id wrapped around to its xmin).
// std::nullopt when another writer got there first, with nothing written.
std::optional<Connection> ConnectionStore::Impl::attempt_update(store::SessionPool::Lease& lease,
                                                               const UpdateRequest& request,
                                                               std::optional<SealedDetails>& sealed, bool locked) {
  const std::int64_t id = request.id;
  std::optional<soci::transaction> tx;
  if (locked) tx.emplace(lease.session());
  store::Params params;
  const auto result = store::exec(lease,
                                  std::string("SELECT ") + store::row_columns() +
                                      ", CAST(xmin AS text) FROM database_connections WHERE id = CAST(" +
                                      params.add(id) + " AS bigint)" + (locked ? " FOR UPDATE" : ""),
                                  params, "update");
  auto rows = store::rows_from(result.get());
  if (rows.empty()) throw no_connection(id);
  store::StoredRow& row = rows.front();
  std::string read_version = store::text(result.get(), 0, PQnfields(result.get()) - 1);  // the xmin, last
  if (request.expected && request.expected->time_since_epoch().count() != row.updated_us) {
    throw Conflict("connection " + std::to_string(id) + " was changed since it was read");
  }
  // A writer that got in before the last try's write but left the envelope as it was (it
  // changed the name, the tags) costs no second unwrap and seal: the same envelope and type
  // make the same details. Unless the provider has a new primary meanwhile: the write
  // re-seals under it, as every write does.
  if (!sealed || sealed->read_envelope != row.envelope || sealed->read_type != row.type ||
      sealed->kid != crypto::checked_primary_key_id(codec.keys())) {
    sealed = seal_patched(row, request.patch);
  }
  const ConnectionPatch& patch = request.patch;
  const std::optional<std::string>& tags_json = request.tags_json;

  // The record is built before anything is written: an error after the UPDATE rolls it back.
  Connection c;
  c.id = row.id;
  c.name = patch.name.value_or(row.name);
  c.description = patch.description ? *patch.description : row.description;
  c.type = row.type;
  c.details = sealed->details;
  c.redacted = store::redact(c.details, c.type);
  c.tags = store::tags_from_json(tags_json.value_or(row.tags_json));
  c.created_by = row.created_by;
  c.updated_by = std::string(request.actor);
  c.key_id = sealed->kid;
  c.alg = sealed->alg;

  // updated_at always moves forward, even when the clock does not (same transaction
  // time, clock steps back): optimistic checks rely on it changing. One that reads as the
  // epoch (NULL, infinite or past 9999: another client's) becomes the transaction time:
  // it would read as the epoch again, and +infinity would stay put.
  // Tags are written only when the patch sets them: the row's own are left as stored.
  store::Params p;
  const std::string sql =
      "UPDATE database_connections SET name = " + p.add(c.name) + ", description = " + p.add_nullable(c.description) +
      ", tags = COALESCE((SELECT ARRAY(SELECT jsonb_array_elements_text(j)) FROM CAST(" + p.add_nullable(tags_json) +
      " AS jsonb) AS j WHERE j IS NOT NULL), tags), connection_details = CAST(" + p.add(sealed->envelope) +
      " AS jsonb), updated_by = " + p.add(c.updated_by) +
      ", updated_at = CASE WHEN " + store::is_usable_time("updated_at") +
      " THEN GREATEST(CURRENT_TIMESTAMP, updated_at + interval '1 microsecond') ELSE CURRENT_TIMESTAMP END "
      "WHERE id = CAST(" + p.add(row.id) + " AS bigint) AND CAST(xmin AS text) = " + p.add(std::move(read_version)) +
      " AND " + store::micros_since_epoch("updated_at") + " = CAST(" + p.add(row.updated_us) +
      " AS bigint) RETURNING " + store::micros_since_epoch("created_at") + ", " +
      store::micros_since_epoch("updated_at");
  const auto written = store::exec(lease, sql, p, "update");
  if (PQntuples(written.get()) != 1) {
    // Unlocked, another writer changed or deleted the row since it was read (or a trigger
    // skipped the write): update() tries again, in the end under the lock, which tells
    // them apart.
    if (!locked) return std::nullopt;
    // Under the lock the version cannot have moved: a BEFORE UPDATE trigger of the table
    // returned NULL, and the row is as it was. Reported, and rolled back, rather than
    // returned as if written.
    throw Database("update: the server did not write connection " + std::to_string(id) +
                       " (a trigger on the table skipped it); nothing was changed",
                   "");
  }
  // strtoll, not the throwing store::integer: the row is written (and committed, unlocked).
  const long long created_us = std::strtoll(PQgetvalue(written.get(), 0, 0), nullptr, 10);
  const long long updated_us = std::strtoll(PQgetvalue(written.get(), 0, 1), nullptr, 10);
  c.created_at = Timestamp(std::chrono::microseconds(created_us));
  c.updated_at = Timestamp(std::chrono::microseconds(updated_us));
  if (tx) tx->commit();
  return c;
}

Connection ConnectionStore::Impl::update(std::int64_t id, const ConnectionPatch& patch,
                                         std::string_view actor, const Timestamp* expected) {
  require_possible_id(id);
  model::check_actor(actor, "actor");
  if (patch.name) model::check_name(*patch.name);
  if (patch.description && *patch.description) model::check_description(**patch.description);
  UpdateRequest request{id, patch, actor, expected, std::nullopt};
  if (patch.tags) request.tags_json = store::tags_to_json(model::normalize_tags(*patch.tags));
  for (const auto& name : patch.details_remove) {
    if (patch.details.find(name))
      throw InvalidArgument("connection_details." + model::name_for_message(name), "is both set and removed");
  }

  try {
    auto lease = pool.lease();
    // Without a row lock first, so that none is held while the key provider unwraps and
    // wraps (a KMS call can take seconds, and every other writer of the row would wait for
    // it): two round trips and no transaction, against four. On a busy row the last try
    // holds the lock, so that it cannot lose again.
    std::optional<SealedDetails> sealed;
    for (int unlocked_try = 1; unlocked_try <= kUnlockedTries; ++unlocked_try) {
      if (auto c = attempt_update(lease, request, sealed, false)) return std::move(*c);
      log(LogLevel::debug, "update: connection " + std::to_string(id) +
                               " was written by another writer after it was read; trying again" +
                               (unlocked_try == kUnlockedTries ? " under the row lock" : ""));
    }
    return std::move(*attempt_update(lease, request, sealed, true));
  } catch (...) {
    store::rethrow_as_datahub_error("update");
  }
}

}  // namespace datahub
