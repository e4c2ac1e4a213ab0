#include "store/migrations.hpp"

#include <datahub/error.hpp>

#include <string>
#include <vector>

namespace datahub::store {
namespace {

struct Migration {
  int version;
  const char* name;
  std::vector<const char*> up;
  std::vector<const char*> down;
};

// Versions 1 and 2 are the seed's DDL, verbatim but for IF NOT EXISTS, which lets the
// library adopt a table DataHubDB already created from the seed.
const std::vector<Migration>& all_migrations() {
  static const std::vector<Migration> list{
      {1,
       "create database_connections (seed)",
       {R"(CREATE TABLE IF NOT EXISTS database_connections (
    id SERIAL PRIMARY KEY,
    name VARCHAR(100) NOT NULL,
    description TEXT,
    type VARCHAR(20) NOT NULL,
    connection_details JSONB NOT NULL,
    tags TEXT[],
    created_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP,
    created_by VARCHAR(50) NOT NULL,
    updated_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP,
    updated_by VARCHAR(50) NOT NULL
))"},
       {"DROP TABLE IF EXISTS database_connections"}},
      {2,
       "seed indexes on name and tags",
       {"CREATE INDEX IF NOT EXISTS idx_database_connections_name ON database_connections(name)",
        "CREATE INDEX IF NOT EXISTS idx_database_connections_tags ON database_connections USING GIN(tags)"},
       {"DROP INDEX IF EXISTS idx_database_connections_name",
        "DROP INDEX IF EXISTS idx_database_connections_tags"}},
      {3,
       "index on the envelope's key id and cipher",
       {"CREATE INDEX IF NOT EXISTS idx_database_connections_kid ON database_connections "
        "((connection_details->>'kid'), (connection_details->>'alg'))"},
       {"DROP INDEX IF EXISTS idx_database_connections_kid"}},
      // Every update of connection_details (an edit, each row of a rotation) can then stay on
      // its page as a HOT update, which writes no index entry: no index may read the column
      // (so the kid index goes; census() scans instead), and each page keeps room for a new
      // version of every row on it, so a rotation batch rewriting a whole page fits.
      // Non-HOT, every rewrite put new entries into all the indexes, the GIN one included:
      // two thirds of the server's time per row (docs/benchmarks.md §4). The fillfactor
      // applies to pages filled from now on; VACUUM FULL applies it to existing rows.
      {4,
       "HOT updates of connection_details: no index reads it, pages half filled",
       {"DROP INDEX IF EXISTS idx_database_connections_kid",
        "ALTER TABLE database_connections SET (fillfactor = 50)"},
       {"ALTER TABLE database_connections RESET (fillfactor)",
        "CREATE INDEX IF NOT EXISTS idx_database_connections_kid ON database_connections "
        "((connection_details->>'kid'), (connection_details->>'alg'))"}},
  };
  return list;
}

// Any constant works; this one spells "datahubc" in ASCII.
constexpr long long kMigrationLock = 0x6461746168756263LL;

int read_version(soci::session& sql) {
  int version = 0;
  soci::indicator ind = soci::i_null;
  sql << "SELECT max(version) FROM datahub_schema_migrations", soci::into(version, ind);
  return ind == soci::i_ok ? version : 0;
}

}  // namespace

int latest_schema_version() { return all_migrations().back().version; }

int current_schema_version(soci::session& sql) {
  int exists = 0;
  sql << "SELECT CASE WHEN to_regclass('datahub_schema_migrations') IS NULL THEN 0 ELSE 1 END",
      soci::into(exists);
  return exists ? read_version(sql) : 0;
}

void migrate_schema_to(soci::session& sql, int target, const Log& log) {
  if (target < 0 || target > latest_schema_version())
    throw InvalidArgument("version", "must be 0 to " + std::to_string(latest_schema_version()));
  soci::transaction tx(sql);
  sql << "SELECT pg_advisory_xact_lock(" << kMigrationLock << ")";
  sql << "CREATE TABLE IF NOT EXISTS datahub_schema_migrations ("
         "version integer PRIMARY KEY, name text NOT NULL, "
         "applied_at timestamptz NOT NULL DEFAULT CURRENT_TIMESTAMP)";
  const int current = read_version(sql);
  const auto& list = all_migrations();
  std::vector<std::string> done;  // logged only once the transaction has committed
  if (target > current) {
    for (const auto& m : list) {
      if (m.version <= current || m.version > target) continue;
      for (const char* statement : m.up) sql << statement;
      std::string name = m.name;
      sql << "INSERT INTO datahub_schema_migrations (version, name) VALUES (:v, :n)",
          soci::use(m.version), soci::use(name);
      done.push_back("schema: migration " + std::to_string(m.version) + " (" + name + ") applied");
    }
  } else {
    for (auto it = list.rbegin(); it != list.rend(); ++it) {
      if (it->version > current || it->version <= target) continue;
      for (const char* statement : it->down) sql << statement;
      sql << "DELETE FROM datahub_schema_migrations WHERE version = :v", soci::use(it->version);
      done.push_back("schema: migration " + std::to_string(it->version) + " (" + it->name + ") reverted");
    }
  }
  tx.commit();
  for (const auto& message : done) log(LogLevel::info, message);
}

}  // namespace datahub::store
