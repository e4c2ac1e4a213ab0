// ConnectionStore: the database_connections table, with its details encrypted.
//
// Open one store per process and share it between threads: every method is thread-safe.
// Each call borrows a session from a pool of `pool_size` PostgreSQL sessions (waiting when
// all are busy), so at most that many statements run at once.
//
//   auto keys = datahub::StaticKeyring::from_environment();
//   datahub::ConnectionStore store({"host=/run/postgresql dbname=datahub", 4, keys});
//   store.migrate();
//   datahub::NewConnection c;
//   c.name = "Production DB";
//   c.details.set("host", "db.example.com").set("database", "main_db")
//            .set("username", "app_user").set("password", "s3cret");
//   c.tags = {"production", "main"};
//   datahub::Connection stored = store.create(c, "user_01");
//   datahub::Connection shown = store.get(stored.id);              // password left out
//   datahub::Connection full = store.get(stored.id, datahub::Secrets::reveal);
//
// Errors are thrown as datahub::Error subclasses (error.hpp). Every value is bound as a
// parameter; no user input is ever spliced into SQL.
//
// A server-side fault in the middle of a write (create, create_many, update, force_update,
// remove, restore, a batch of rotate) rolls back what that call's transaction wrote, and
// throws
//   - Unavailable when the connection is lost (a terminated backend, a restart, an
//     idle_in_transaction_session_timeout while restore(next)'s source is read); the
//     session is reopened on its next use. Lost while the server commits, the write may or
//     may not have been applied: read the row before repeating it.
//   - Database, with the server's SQLSTATE and primary message, when the server refuses the
//     statement: statement_timeout (57014), lock_timeout (55P03), a row a constraint or
//     trigger of the table's refuses (a unique index on name: 23505, for restore too). A
//     row such a trigger skips without an error (a BEFORE trigger returning NULL) is
//     Database too, with no SQLSTATE, for create, create_many, update, remove and restore;
//     rotate leaves it and counts it in skipped_changed.
// The library sets no timeout of its own: a write waits for a lock another session holds
// on the table or the row for as long as it is held, unless the conninfo sets one
// ("options='-c lock_timeout=5s -c statement_timeout=30s'").
#pragma once

#include <datahub/connection.hpp>
#include <datahub/export.hpp>
#include <datahub/key_provider.hpp>
#include <datahub/key_rotation.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace datahub {

// Reuse of data keys, for key providers that are slow (a remote KMS). Off by default:
// every record then gets its own DEK. When on, one DEK (and its wrapped form) seals up to
// max_uses records within ttl; each record still gets its own message id and so its own
// content key. Unwrapped DEKs are kept for reads within the same ttl.
struct DekCacheOptions {
  std::chrono::seconds ttl{0};      // 0: off
  std::uint32_t max_uses = 1000;    // records per cached DEK
  std::size_t max_entries = 4096;   // unwrapped DEKs kept for reads
};

enum class LogLevel { debug, info, warning, error };
// Receives the store's diagnostics: reconnects, rows of list() and for_each() that fail to
// open (warning, one per page: "list: 2 of 100 connection(s) could not be opened, the
// first 7: ..."), each migration applied or reverted (info, "schema: migration 4 (<name>)
// applied"), and each time an update tries again because another writer got to its row
// first (debug, "update: connection 7 was written by another writer after it was read;
// trying again"). Called from any thread; messages never contain a secret or a bound
// value.
using LogCallback = std::function<void(LogLevel level, const std::string& message)>;

struct StoreOptions {
  std::string database;                     // libpq's "host=... dbname=... user=..." or a postgresql:// URI
  std::size_t pool_size = 4;                // sessions opened at construction, 1-64
  std::shared_ptr<const KeyProvider> keys;  // required
  std::string cipher = "A256GCM";           // seals new records; any registered cipher opens
  std::chrono::seconds connect_timeout{10};  // per session; added to the conninfo
  std::chrono::seconds acquire_timeout{30};  // waiting for a free session; then Unavailable
  DekCacheOptions dek_cache;
  LogCallback log;                           // optional
};

struct SchemaStatus {
  int current_version = 0;  // 0: nothing applied
  int latest_version = 0;   // what migrate() brings the schema to
};

class DATAHUB_API ConnectionStore {
 public:
  // Opens the pool. Throws InvalidArgument for bad options (a conninfo libpq rejects
  // included), Unavailable when the server cannot be reached within connect_timeout, and
  // Database when it refuses the login: a wrong or missing password (SQLSTATE 28P01), an
  // unknown role or no pg_hba.conf entry (28000), no such database (3D000), a startup
  // option (options='-c ...') with a bad value (22023) or an unknown name (42704). Any other
  // refusal is Unavailable (a server starting up or full, where retrying may help, but also
  // a startup option the role may not set). An empty `database` is libpq's defaults
  // (PGHOST, PGDATABASE, ..., else the local socket).
  explicit ConnectionStore(StoreOptions options);
  ~ConnectionStore();
  ConnectionStore(const ConnectionStore&) = delete;
  ConnectionStore& operator=(const ConnectionStore&) = delete;

  // --- Schema. Safe to run from several processes at once (pg_advisory_xact_lock).
  // Applies every pending migration: the seed's table and indexes, then the library's own.
  void migrate();
  SchemaStatus schema_status();
  // The seed's rollback plan: drops the indexes, keeps the table and its data.
  void rollback_indexes();
  // Drops the table and every row in it. Separate and explicit on purpose.
  void drop_table();

  // --- Connections.
  // Validates, takes the id, seals the details bound to that id, inserts. Returns the
  // stored record (secrets redacted). Throws InvalidArgument naming the field.
  // Every text argument and field must be valid UTF-8 without NUL bytes; `actor` (written
  // to created_by / updated_by) is 1-50 characters, else InvalidArgument("actor").
  Connection create(const NewConnection& connection, std::string_view actor);

  // Creates every connection, or none: all are validated first (InvalidArgument names
  // "connections[i].<field>"), then, in one transaction, one round trip takes every id and
  // one COPY streams the rows, sealed 1000 at a time (on a helper thread when there is more
  // than one batch, so sealing overlaps the server's work). Returns the stored records in
  // input order; every one has the transaction's time as created_at and updated_at. A
  // row the server rejects (a constraint or trigger of the table's) is Database, its
  // message ending " at connections[i]" when the server names the row's line.
  std::vector<Connection> create_many(const std::vector<NewConnection>& connections,
                                      std::string_view actor);

  // Throws NotFound, Integrity, KeyUnavailable.
  Connection get(std::int64_t id, Secrets secrets = Secrets::redact);

  // Every connection with exactly this name (names are not unique), by id. A row that
  // cannot be opened comes back with `error` set, as in list().
  std::vector<Connection> find_by_name(std::string_view name, Secrets secrets = Secrets::redact);

  // One page of connections matching the query, by id. A row that cannot be opened comes
  // back with `error` set instead of failing the page.
  Page list(const ListQuery& query, Secrets secrets = Secrets::redact);

  // Calls `visit` with each connection matching the query (its after_id is where to start;
  // its limit is the page size fetched at a time), in id order, until `visit` returns
  // false. Memory stays constant however many rows match. Rows that cannot be opened come
  // with `error` set, as in list(). No session is held while `visit` runs, so it may call
  // the store (even with pool_size 1). Rows are fetched a page (`limit` rows) at a time:
  // a row changed after its page was fetched is visited as it was read.
  void for_each(const ListQuery& query, const std::function<bool(const Connection&)>& visit,
                Secrets secrets = Secrets::redact);

  // Applies the patch if the row's updated_at still equals expected_updated_at (the value
  // the caller read), else throws Conflict; NotFound when there is no such row. Sets
  // updated_by, and an updated_at later than the previous one, even for a patch that
  // changes nothing. A row sealed under an old key is re-sealed under the primary.
  // Every update opens and re-seals the details, even one that changes only the name,
  // description or tags: it throws KeyUnavailable or Integrity when they cannot be opened.
  // Concurrent updates of one row lose nothing: when another writer changed the row
  // between update's read and its write, the patch is applied again to the row as that
  // writer left it. The key provider is called with no row lock held, but on a fourth
  // such try, made under the lock; and it opens and seals again only when that writer
  // changed the envelope (the details, or the key they are sealed under) or the primary
  // key changed: a row whose details are busy may cost four seals.
  Connection update(std::int64_t id, const ConnectionPatch& patch, std::string_view actor,
                    Timestamp expected_updated_at);
  // The same without the version check: the last writer wins. For admin tools.
  Connection force_update(std::int64_t id, const ConnectionPatch& patch, std::string_view actor);

  // Throws NotFound when there is no such row.
  void remove(std::int64_t id);

  // Writes records exactly as given (id, name, ..., timestamps, audit columns), sealing
  // their details under the primary key: restoring an export. A record must carry its
  // secrets: one read with Secrets::redact (non-empty `redacted`) is refused,
  // InvalidArgument "records[i].redacted", since restoring it would drop them (clear
  // `redacted` to restore it without them on purpose). All or nothing: one invalid
  // record (InvalidArgument "records[i].<field>", an id given twice included), an id
  // already in the table (Conflict), or a row the server refuses (Database: a constraint
  // or trigger of the table's, a unique index on name included; the message ends " at
  // connection <id>" when the server names the row's line), and nothing is written.
  // Ids are 1-2147483647 (the SERIAL column's range). Moves the id sequence past the
  // highest restored id, never backwards. Times must lie in the years 1-9999 (UTC), as in
  // an export, and not at the epoch itself (how get() reads a NULL or infinite time; it
  // would be restored as 1970). Every record is checked and sealed before the transaction opens, then the
  // rows are streamed (COPY) 1000 at a time.
  void restore(const std::vector<Connection>& records);

  // The same for more records than memory should hold, in one transaction: `next` fills
  // `batch` (handed over empty) with the next records; an empty batch ends the restore.
  // Each batch is checked, sealed and streamed as it comes, so memory holds one batch.
  // The first batch is checked and sealed before the transaction opens; from then on the
  // table is locked against other writers (SHARE ROW EXCLUSIVE) until the restore ends,
  // `next`'s own time included. All or nothing: an invalid record (InvalidArgument
  // "records[i].<field>", i counted across batches), an id already in the table or given
  // twice (Conflict naming it: an id repeated in a later batch finds it taken), or an
  // exception from `next` (propagated unchanged) rolls everything back. The restore holds
  // one pooled session throughout; `next` must not write to the table (it would wait for
  // the restore's own lock).
  void restore(const std::function<void(std::vector<Connection>& batch)>& next);

  // --- Keys. Safe to run while the application keeps using the table.
  // Rows per (key id, cipher), from one pass over the table; decrypts nothing. Rows with
  // no key id (another client's: in clear, or damaged) count under key id "". Throws
  // KeyUnavailable when the provider's primary key id breaks the key-id rule.
  KeyCensus census();
  // Moves every row sealed under a key other than the primary onto the primary, in small
  // batches; a row edited concurrently is never overwritten (it is re-read and retried).
  // Resumable: run it again after any interruption. Throws what progress() throws. A batch
  // that fails (Unavailable, or Database: a timeout, a row the server refuses) ends the
  // rotation with that error; batches already written stay written, and every row opens,
  // under its old key or the primary.
  RotateReport rotate(const RotateOptions& options = {});
  // Opens every row, batch_size (1-10000) at a time, and lists those that fail; changes
  // nothing.
  VerifyReport verify(std::size_t batch_size = 1000);

  const KeyProvider& keys() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace datahub
