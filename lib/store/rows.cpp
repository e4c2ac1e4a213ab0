#include "store/rows.hpp"

namespace datahub::store {

std::string is_usable_time(const std::string& column) {
  // Comparisons are false for NULL, and for one of the infinities each.
  return "(" + column + " >= CAST('0001-01-01 00:00:00+00' AS timestamptz) AND " + column +
         " < CAST('10000-01-01 00:00:00+00' AS timestamptz))";
}

std::string micros_since_epoch(const std::string& column) {
  return "CASE WHEN " + is_usable_time(column) + " THEN CAST(extract(epoch FROM " + column +
         ") * 1000000 AS bigint) ELSE 0 END";
}

const std::string& row_columns() {
  // NULL tags read as an empty array, and NULL elements (only other clients write them;
  // they match no search) are left out. A multi-dimensional array (the column's type allows
  // one) is read flat, its elements in storage order: array_remove takes one dimension only.
  static const std::string columns = "id, name, description, type, CAST(connection_details AS text), "
                                     "COALESCE(CAST(array_to_json(CASE WHEN array_ndims(tags) > 1 "
                                     "THEN ARRAY(SELECT t FROM unnest(tags) AS t WHERE t IS NOT NULL) "
                                     "ELSE array_remove(tags, NULL) END) AS text), '[]'), " +
                                     micros_since_epoch("created_at") + ", created_by, " +
                                     micros_since_epoch("updated_at") + ", updated_by";
  return columns;
}

std::vector<StoredRow> fetch_rows(const SessionPool::Lease& lease, const std::string& query,
                                  const Params& params, const std::string& operation) {
  return rows_from(exec(lease, query, params, operation).get());
}

std::vector<StoredRow> rows_from(const PGresult* r) {
  const int n = PQntuples(r);
  std::vector<StoredRow> rows(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    StoredRow& row = rows[static_cast<std::size_t>(i)];
    row.id = integer(r, i, 0);
    row.name = text(r, i, 1);
    if (!PQgetisnull(r, i, 2)) row.description = text(r, i, 2);
    row.type = text(r, i, 3);
    row.envelope = text(r, i, 4);
    row.tags_json = text(r, i, 5);
    row.created_us = integer(r, i, 6);
    row.created_by = text(r, i, 7);
    row.updated_us = integer(r, i, 8);
    row.updated_by = text(r, i, 9);
  }
  return rows;
}

namespace {

// SELECT `columns` FROM database_connections WHERE `where`, each result row made by
// `make(result, row)`.
template <typename Row, typename MakeRow>
std::vector<Row> select_rows(const SessionPool::Lease& lease, const std::string& columns, const std::string& where,
                             const Params& params, const std::string& operation, MakeRow make) {
  const auto result =
      exec(lease, "SELECT " + columns + " FROM database_connections WHERE " + where, params, operation);
  const int n = PQntuples(result.get());
  std::vector<Row> rows;
  rows.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) rows.push_back(make(result.get(), i));
  return rows;
}

}  // namespace

std::vector<SealedRow> read_sealed(const SessionPool::Lease& lease, const std::string& where,
                                   const Params& params, const std::string& operation) {
  return select_rows<SealedRow>(lease,
                                "id, CAST(connection_details AS text), " + micros_since_epoch("updated_at") +
                                    ", connection_details->>'mid', connection_details->>'edk'",
                                where, params, operation, [](const PGresult* r, int i) {
                                  return SealedRow{integer(r, i, 0), text(r, i, 1), integer(r, i, 2), text(r, i, 3),
                                                   text(r, i, 4)};
                                });
}

std::vector<WrappedKeyRow> read_wrapped_keys(const SessionPool::Lease& lease, const std::string& where,
                                             const Params& params, const std::string& operation,
                                             bool whole_envelope) {
  return select_rows<WrappedKeyRow>(
      lease,
      std::string("id, connection_details->>'kid', connection_details->>'edk', "
                  "CASE WHEN jsonb_typeof(connection_details->'kid') = 'string' AND "
                  "jsonb_typeof(connection_details->'edk') = 'string' THEN CAST(connection_details->'v' AS text) END") +
          (whole_envelope ? ", CAST(connection_details AS text)" : ""),
      where, params, operation, [whole_envelope](const PGresult* r, int i) {
        return WrappedKeyRow{integer(r, i, 0), text(r, i, 1), text(r, i, 2), text(r, i, 3),
                             whole_envelope ? text(r, i, 4) : std::string()};
      });
}

}  // namespace datahub::store
