// ConnectionStore::restore: writes exported records back exactly as they were.
#include "store/sql_error.hpp"
#include "store/store_impl.hpp"
#include "transfer/record_rules.hpp"

#include <datahub/error.hpp>

#include <soci/postgresql/soci-postgresql.h>

#include <set>

namespace datahub {
namespace {

// Every record checked before anything is written; the field names the record's index.
std::vector<Connection> check_all(const std::vector<Connection>& records) {
  std::vector<Connection> checked;
  std::set<std::int64_t> ids;
  for (std::size_t i = 0; i < records.size(); ++i) {
    const std::string where = "records[" + std::to_string(i) + "]";
    try {
      checked.push_back(transfer::check_restorable(records[i]));
    } catch (const InvalidArgument& e) {
      throw InvalidArgument(where + "." + e.field(), transfer::reason_of(e));
    }
    if (!ids.insert(records[i].id).second) throw InvalidArgument(where + ".id", "appears twice");
  }
  return checked;
}

std::string ids_to_json(const std::vector<Connection>& records) {
  std::string json = "[";
  for (const auto& r : records) json += (json.size() > 1 ? "," : "") + std::to_string(r.id);
  return json + "]";
}

// The first of `records`' ids already in the table, or 0.
long long first_taken_id(soci::session& sql, const std::vector<Connection>& records) {
  std::string ids = ids_to_json(records);
  long long taken = 0;
  soci::indicator ind = soci::i_null;
  sql << "SELECT min(id) FROM database_connections WHERE id = ANY(ARRAY("
         "SELECT CAST(jsonb_array_elements_text(CAST(:ids AS jsonb)) AS integer)))",
      soci::use(ids, "ids"), soci::into(taken, ind);
  return ind == soci::i_ok ? taken : 0;
}

void insert(soci::session& sql, const Connection& c, std::string& envelope) {
  long long id = c.id, created_us = c.created_at.time_since_epoch().count(),
            updated_us = c.updated_at.time_since_epoch().count();
  std::string name = c.name, type = c.type, created_by = c.created_by, updated_by = c.updated_by;
  std::string description = c.description.value_or("");
  soci::indicator description_ind = c.description ? soci::i_ok : soci::i_null;
  std::string tags = store::tags_to_json(c.tags);
  // Times travel as integer microseconds since the epoch, like everywhere in the store.
  sql << "INSERT INTO database_connections (id, name, description, type, connection_details, tags, "
         "created_at, created_by, updated_at, updated_by) VALUES (CAST(:id AS integer), :name, :description, "
         ":type, CAST(:details AS jsonb), ARRAY(SELECT jsonb_array_elements_text(CAST(:tags AS jsonb))), "
         "to_timestamp(0) + CAST(:created_us AS bigint) * interval '1 microsecond', :created_by, "
         "to_timestamp(0) + CAST(:updated_us AS bigint) * interval '1 microsecond', :updated_by)",
      soci::use(id, "id"), soci::use(name, "name"), soci::use(description, description_ind, "description"),
      soci::use(type, "type"), soci::use(envelope, "details"), soci::use(tags, "tags"),
      soci::use(created_us, "created_us"), soci::use(created_by, "created_by"),
      soci::use(updated_us, "updated_us"), soci::use(updated_by, "updated_by");
}

}  // namespace

void ConnectionStore::restore(const std::vector<Connection>& records) {
  if (records.empty()) return;
  const std::vector<Connection> checked = check_all(records);
  // Sealed before the transaction opens: a slow key provider does not hold the lock.
  std::vector<std::string> envelopes;
  envelopes.reserve(checked.size());
  for (const auto& c : checked) envelopes.push_back(impl_->codec.seal(c.details, c.id));
  try {
    auto lease = impl_->pool.lease();
    soci::session& sql = lease.session();
    soci::transaction tx(sql);
    // Keeps concurrent writers out until the ids and the sequence agree again.
    sql << "LOCK TABLE database_connections IN SHARE ROW EXCLUSIVE MODE";
    if (long long taken = first_taken_id(sql, checked))
      throw Conflict("connection " + std::to_string(taken) + " already exists; nothing was restored");
    for (std::size_t i = 0; i < checked.size(); ++i) insert(sql, checked[i], envelopes[i]);
    // Past the highest id, and never backwards (ids of deleted rows are not reused).
    sql << "SELECT setval(seq, GREATEST((SELECT max(id) FROM database_connections), "
           "COALESCE(pg_sequence_last_value(seq), 1))) "
           "FROM (SELECT CAST(pg_get_serial_sequence('database_connections', 'id') AS regclass) AS seq) s";
    tx.commit();
  } catch (const soci::postgresql_soci_error& e) {
    if (e.sqlstate() == "23505") throw Conflict("restore: an id is already taken; nothing was restored");
    try {
      throw;
    } catch (...) {
      store::rethrow_as_datahub_error("restore");
    }
  } catch (...) {
    store::rethrow_as_datahub_error("restore");
  }
}

}  // namespace datahub
