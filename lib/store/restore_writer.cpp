#include "store/restore_writer.hpp"

#include "store/pq.hpp"
#include "store/record_codec.hpp"
#include "store/sql_error.hpp"

#include <datahub/error.hpp>

#include <algorithm>
#include <vector>

namespace datahub::store {
namespace {

const std::string kOperation = "restore";

// Runs `step`, turning failures into datahub errors. A taken id is found by write()'s own
// query, under the table lock, and is a Conflict naming it; a duplicate key the server
// reports (23505) is then another unique index's, one on name say, and stays a Database
// error with the server's message: it is not an id already taken.
template <typename Step>
void guarded(Step&& step) {
  try {
    step();
  } catch (...) {
    rethrow_as_datahub_error(kOperation);
  }
}

// The ids as a PostgreSQL integer[] literal.
std::string id_array(const Connection* records, std::size_t count) {
  std::string out = "{";
  for (std::size_t i = 0; i < count; ++i) out += (i ? "," : "") + std::to_string(records[i].id);
  return out + "}";
}

// The first id given twice among these, or 0.
std::int64_t repeated_id(const Connection* records, std::size_t count) {
  std::vector<std::int64_t> ids(count);
  for (std::size_t i = 0; i < count; ++i) ids[i] = records[i].id;
  std::sort(ids.begin(), ids.end());
  const auto twice = std::adjacent_find(ids.begin(), ids.end());
  return twice == ids.end() ? 0 : *twice;
}

// One COPY row: id, name, description, type, connection_details, tags, created_at,
// created_by, updated_at, updated_by. Times in ISO 8601 with a zone: exact to the
// microsecond whatever the session's DateStyle and TimeZone.
void append_row(std::string& out, const Connection& c, const std::string& envelope) {
  out += std::to_string(c.id);
  out += '\t';
  append_copy_field(out, c.name);
  out += '\t';
  if (c.description) append_copy_field(out, *c.description); else out += "\\N";
  out += '\t';
  append_copy_field(out, c.type);
  out += '\t';
  append_copy_field(out, envelope);
  out += '\t';
  append_copy_field(out, text_array_literal(c.tags));
  out += '\t';
  out += format_timestamp(c.created_at);
  out += '\t';
  append_copy_field(out, c.created_by);
  out += '\t';
  out += format_timestamp(c.updated_at);
  out += '\t';
  append_copy_field(out, c.updated_by);
  out += '\n';
}

}  // namespace

RestoreWriter::RestoreWriter(SessionPool& pool) : lease_(pool.lease()) {
  guarded([&] {
    tx_.emplace(lease_.session());
    Params none;
    exec(lease_, "LOCK TABLE database_connections IN SHARE ROW EXCLUSIVE MODE", none, kOperation);
  });
}

void RestoreWriter::write(const Connection* records, const std::string* envelopes, std::size_t count) {
  if (count == 0) return;
  if (const std::int64_t twice = repeated_id(records, count))
    throw Conflict("connection " + std::to_string(twice) + " is given twice; nothing was restored");
  guarded([&] {
    // Rows this transaction wrote are visible to it: an id repeated from an earlier batch
    // shows here as taken.
    Params ids;
    const std::string sql = "SELECT min(id) FROM database_connections WHERE id = ANY(CAST(" +
                            ids.add(id_array(records, count)) + " AS integer[]))";
    const Result taken = exec(lease_, sql, ids, kOperation);
    if (!PQgetisnull(taken.get(), 0, 0))
      throw Conflict("connection " + text(taken.get(), 0, 0) + " already exists; nothing was restored");
    std::string rows;
    rows.reserve(1024 * count);
    for (std::size_t i = 0; i < count; ++i) append_row(rows, records[i], envelopes[i]);
    CopyIn copy(lease_,
                "COPY database_connections (id, name, description, type, connection_details, tags, "
                "created_at, created_by, updated_at, updated_by) FROM STDIN",
                kOperation, [&](long long line) {
                  const bool sent = line >= 1 && line <= static_cast<long long>(count);
                  return sent ? "connection " + std::to_string(records[line - 1].id) : "line " + std::to_string(line);
                });
    copy.send(rows);
    // A BEFORE INSERT trigger of the table's that returns NULL drops a row without an error.
    const long long stored = copy.finish();
    if (stored != static_cast<long long>(count))
      throw Database("restore: the server stored " + std::to_string(stored) + " of " + std::to_string(count) +
                         " rows of a batch (a trigger on the table skipped the others); nothing was restored",
                     "");
  });
}

void RestoreWriter::commit() {
  guarded([&] {
    // Past the highest id, and never backwards (ids of deleted rows are not reused).
    Params none;
    exec(lease_,
         "SELECT setval(seq, GREATEST((SELECT max(id) FROM database_connections), "
         "COALESCE(pg_sequence_last_value(seq), 1))) "
         "FROM (SELECT CAST(pg_get_serial_sequence('database_connections', 'id') AS regclass) AS seq) s",
         none, kOperation);
    tx_->commit();
  });
}

}  // namespace datahub::store
