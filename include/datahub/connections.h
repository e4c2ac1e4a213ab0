/*
 * DataHub Connections SDK: the C ABI.
 *
 * A C99 interface to the connection store: records of the database_connections table whose
 * connection_details are encrypted. Python (ctypes), Go (cgo) and C programs use it; C++
 * programs may use it too, or the C++ API in <datahub/connections.hpp>.
 *
 * Conventions (the same for every call; docs/c-api.md is the full reference):
 *  - Names are dhc_<noun>_<verb>. Handles are opaque: dhc_store, dhc_error.
 *  - Every fallible call returns a dhc_code and takes `dhc_error **err` last. `err` may be
 *    NULL. When it is not, *err is set to NULL on success and to a new error object on
 *    failure, which the caller frees with dhc_error_free(). *err is never read. There is no
 *    thread-local "last error", so a Go goroutine may switch OS threads between two calls.
 *  - Records, queries and patches cross as UTF-8 JSON text. Strings the library returns
 *    (char **out_json) are owned by the caller and freed with dhc_string_free(), which wipes
 *    them first since they may hold secrets. On failure *out_json is set to NULL.
 *    An optional member of a new record ("tags") or of a query given as null counts as not
 *    given; in a patch, null means "clear" where the patch says so and is refused elsewhere;
 *    in config_json and options_json, null is refused (leave the member out).
 *  - A NULL pointer where a value is required, malformed JSON, invalid UTF-8, an unknown
 *    field or a field of the wrong type gives DHC_INVALID_ARGUMENT and changes nothing.
 *  - Text arguments (JSON, actor, name) are NUL-terminated: the library cannot see past a
 *    NUL, so a binding passing bytes with one inside ("alice\0bob") must refuse them itself.
 *    Inside JSON, \u0000 is seen and refused.
 *  - No C++ exception ever crosses this boundary; an unexpected one becomes DHC_INTERNAL.
 *  - Error messages name the field or operation that failed and never contain a secret.
 *  - A dhc_store is thread-safe: any number of threads may use one store at once (each call
 *    borrows one of the store's pool_size database sessions, waiting when all are busy).
 *    Only dhc_store_close() must not race with other calls on the same store.
 */
#ifndef DATAHUB_CONNECTIONS_H
#define DATAHUB_CONNECTIONS_H

#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__) || defined(__clang__)
#define DHC_API __attribute__((visibility("default")))
#else
#define DHC_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Result codes; the numbers are stable and equal to datahub::ErrorCode. */
typedef enum {
  DHC_OK = 0,
  DHC_INVALID_ARGUMENT = 1, /* bad input (NULL, JSON, field value); nothing was changed */
  DHC_NOT_FOUND = 2,        /* no connection with that id */
  DHC_CONFLICT = 3,         /* the row changed since the caller read it (update) */
  DHC_INTEGRITY = 4,        /* stored ciphertext tampered with, swapped or malformed */
  DHC_KEY_UNAVAILABLE = 5,  /* the key provider does not have, or cannot use, the key */
  DHC_DATABASE = 6,         /* the server rejected a statement; see dhc_error_sqlstate() */
  DHC_UNAVAILABLE = 7,      /* the server cannot be reached, or no session became free
                               within the config's acquire_timeout */
  DHC_INTERNAL = 8          /* a bug in the library, or out of memory */
} dhc_code;

/* Flag for get, list and find_by_name: return secret detail fields (passwords). Without it
 * they are left out of connection_details and listed by name in "redacted". Other bits are
 * reserved: setting one gives DHC_INVALID_ARGUMENT. */
#define DHC_REVEAL_SECRETS 1u

typedef struct dhc_store dhc_store; /* an open store: a session pool and a key provider */
typedef struct dhc_error dhc_error; /* a failure: code, message, SQLSTATE */

/* ---------------------------------------------------------------------------------------
 * Version and memory
 */

/* The library version, e.g. "0.1.0". Static storage; never NULL. Thread-safe. */
DHC_API const char *dhc_version(void);

/* Wipes a string returned by this library (it may hold a password), then frees it.
 * NULL is a no-op. Do not pass strings that this library did not return. */
DHC_API void dhc_string_free(char *s);

/* ---------------------------------------------------------------------------------------
 * Errors. Accessors accept NULL (code DHC_OK, message ""). An error object is immutable,
 * so it may be read from any thread; free it exactly once.
 */

DHC_API dhc_code dhc_error_code(const dhc_error *e);
/* UTF-8, owned by the error object, valid until dhc_error_free(e). */
DHC_API const char *dhc_error_message(const dhc_error *e);
/* The server's five-character SQLSTATE for DHC_DATABASE; "" for every other code, and for
 * a DHC_DATABASE the server sent none with (a trigger on the table skipped the row). Owned
 * by the error. */
DHC_API const char *dhc_error_sqlstate(const dhc_error *e);
/* NULL is a no-op. */
DHC_API void dhc_error_free(dhc_error *e);

/* ---------------------------------------------------------------------------------------
 * Stores
 */

/* Opens a store: connects pool_size sessions and sets up the key provider.
 *
 * config_json:
 *   {"database": "<libpq conninfo or URI>",   required; passed to libpq as is ("" means
 *                                             libpq's defaults and PG* variables)
 *    "pool_size": 4,                          optional, 1-64
 *    "cipher": "A256GCM",                     optional: "A256GCM" or "XC20P"
 *    "connect_timeout": 10,                   optional, seconds per session, 1-3600
 *    "acquire_timeout": 30,                   optional, seconds a call waits for a free
 *                                             session before DHC_UNAVAILABLE, 1-3600
 *    "dek_cache": {"ttl_seconds": 300,        optional; reuse data keys for a slow KMS:
 *                  "max_uses": 1000,          ttl_seconds 0 (the default) is off
 *                  "max_entries": 4096},
 *    "keys": {...}}                           required, one of:
 *      {"provider": "static", "primary": "k1", "keys": {"k1": "<base64 of >= 32 bytes>"}}
 *      {"provider": "env", "variable": "DATAHUB_CONNECTIONS_KEYS"}   variable optional;
 *          the variable holds "kid1:base64,kid2:base64", the first key is the primary
 *      {"provider": "file", "path": "/etc/datahub/keyring.json"}   the file holds
 *          {"primary": "k2", "keys": {"k1": "<base64>", ...}} and is refused when group
 *          or others may read it
 *
 * On success *out is a new store the caller closes with dhc_store_close(). On failure
 * *out is NULL. Errors: DHC_INVALID_ARGUMENT (config, a "database" libpq rejects included),
 * DHC_UNAVAILABLE (server unreachable), DHC_DATABASE (the server refused the login).
 * Thread-safe. */
DHC_API dhc_code dhc_store_open(const char *config_json, dhc_store **out, dhc_error **err);

/* A key provider implemented by the host (a cloud KMS, a Python or Go object).
 *
 * The store calls these from any of its threads, concurrently: they must be thread-safe,
 * and must not depend on running on the caller's thread (dhc_connection_create_many seals
 * on a helper thread of its own while the caller waits).
 * Output buffers belong to the library and are valid only during the call: the callback
 * copies its result into `out` (capacity `out_cap` bytes) and sets *out_len to the result's
 * full length. When that length exceeds out_cap the library calls again with a buffer of at
 * least *out_len bytes (so wrap may be called twice; either result is fine). A callback
 * never keeps a pointer it was given. Each returns DHC_OK (0) or an error code: from unwrap,
 * DHC_INTEGRITY means "edk or aad was altered"; any other error becomes
 * DHC_KEY_UNAVAILABLE for the caller of the store. Key ids are NUL-terminated UTF-8. */
#define DHC_KEY_PROVIDER_VERSION 1u
typedef struct dhc_key_provider {
  unsigned int version; /* DHC_KEY_PROVIDER_VERSION */
  void *user_data;      /* passed to every callback; owned by the provider */
  /* Writes the primary key id (no NUL needed): 1-128 characters of [A-Za-z0-9._:/-], as
   * every key id. Another id, or an error, makes every call that asks for the primary
   * (create, update, census, rotate) fail with DHC_KEY_UNAVAILABLE; reads do not need it
   * (they then report "stale": false). */
  int (*primary_key_id)(void *user_data, char *out, size_t out_cap, size_t *out_len);
  /* Encrypts the data key `dek` under key `key_id`, bound to `aad`: at most 64 KiB. Every
   * write unwraps the result once before storing it, so a wrap that does not round-trip
   * fails the write (DHC_KEY_UNAVAILABLE) and writes need a working unwrap too. */
  int (*wrap)(void *user_data, const char *key_id, const uint8_t *dek, size_t dek_len,
              const uint8_t *aad, size_t aad_len, uint8_t *out, size_t out_cap,
              size_t *out_len);
  /* Reverses wrap(): writes the data key (32 bytes; any other length is the provider
   * failing: DHC_KEY_UNAVAILABLE). The library wipes `out` after use. A rotation opens
   * each row's ciphertext with the key this returns before wrapping it again, so a wrong
   * key leaves the row as it was (counted "failed"). */
  int (*unwrap)(void *user_data, const char *key_id, const uint8_t *edk, size_t edk_len,
                const uint8_t *aad, size_t aad_len, uint8_t *out, size_t out_cap,
                size_t *out_len);
  /* Optional (may be NULL). Called exactly once, when the store no longer needs the
   * provider: from dhc_store_close(). Not called when the open call fails. */
  void (*destroy)(void *user_data);
} dhc_key_provider;

/* Opens a store whose keys come from `provider` instead of config "keys" (which must then
 * be absent: giving both is DHC_INVALID_ARGUMENT). The struct is copied; it need not
 * outlive the call, but user_data, and the code its function pointers point to, must stay
 * valid until destroy is called (with ctypes, keep the CFUNCTYPE objects alive; from Go,
 * user_data cannot be a Go pointer: pass a runtime/cgo.Handle). On success the store
 * owns user_data (see destroy); on failure the caller still does. Otherwise as
 * dhc_store_open(). */
DHC_API dhc_code dhc_store_open_with_provider(const char *config_json,
                                              const dhc_key_provider *provider,
                                              dhc_store **out, dhc_error **err);

/* Closes the sessions and frees the store (and calls the provider's destroy). NULL is a
 * no-op. No other call may be using the store, or use it afterwards. */
DHC_API void dhc_store_close(dhc_store *store);

/* ---------------------------------------------------------------------------------------
 * Schema. Safe to run from several processes at once (serialized in the database).
 */

/* Applies every pending migration: the table, its indexes, the library's own. Idempotent. */
DHC_API dhc_code dhc_schema_migrate(dhc_store *store, dhc_error **err);

/* The applied and the latest known schema versions (0: nothing applied). Either output
 * pointer may be NULL. */
DHC_API dhc_code dhc_schema_status(dhc_store *store, int *current_version,
                                   int *latest_version, dhc_error **err);

/* The rollback plan's first step: drops the indexes, keeps the table and its rows. The
 * schema version goes back to 1 (the table alone); dhc_schema_migrate builds them again. */
DHC_API dhc_code dhc_schema_rollback_indexes(dhc_store *store, dhc_error **err);

/* DESTROYS DATA: drops the database_connections table and every row in it. */
DHC_API dhc_code dhc_schema_drop_table(dhc_store *store, dhc_error **err);

/* ---------------------------------------------------------------------------------------
 * Connections. A record is a JSON object:
 *   {"id": 1, "name": "Production DB", "description": null, "type": "POSTGRESQL",
 *    "connection_details": {"host": "db", "port": 5432, ...}, "redacted": ["password"],
 *    "tags": ["production"], "created_at": "2024-03-20T10:00:00.000000Z",
 *    "created_by": "user_01", "updated_at": "...", "updated_by": "user_01",
 *    "key_id": "k1", "alg": "A256GCM", "stale": false}
 * "redacted" lists the secret fields that are set but left out (always [] with
 * DHC_REVEAL_SECRETS). "stale" is true when the record is sealed under a key that is not
 * the primary. All calls are thread-safe.
 */

/* Creates a connection. connection_json:
 *   {"name": "...", "description": "..." | null, "type": "POSTGRESQL",
 *    "connection_details": {...}, "tags": ["..."]}     description and tags optional
 * name 1-100 characters, description at most 10,000, at most 100 tags of 1-200 characters
 * each, counted after duplicates are dropped (text is valid UTF-8 without NUL). actor (required, 1-50 characters) becomes
 * created_by and updated_by.
 * *out_json: the stored record, secrets redacted. */
DHC_API dhc_code dhc_connection_create(dhc_store *store, const char *connection_json,
                                       const char *actor, char **out_json, dhc_error **err);

/* The record with this id. DHC_NOT_FOUND, DHC_INTEGRITY, DHC_KEY_UNAVAILABLE. */
DHC_API dhc_code dhc_connection_get(dhc_store *store, int64_t id, uint32_t flags,
                                    char **out_json, dhc_error **err);

/* Every record with exactly this name (names are not unique), by id: {"items": [...]}.
 * An item whose details cannot be opened comes with "error", as in dhc_connection_list. */
DHC_API dhc_code dhc_connection_find_by_name(dhc_store *store, const char *name,
                                             uint32_t flags, char **out_json,
                                             dhc_error **err);

/* One page of records, by id. query_json (NULL or "" means {}):
 *   {"type": "...", "tags_all": [...], "tags_any": [...], "name_prefix": "...",
 *    "after_id": 0, "limit": 100}                      all optional; limit 1-1000;
 *   name_prefix 1-100 characters, matched literally (no LIKE wildcards); tags 1-200
 *   characters, at most 100 per list
 * *out_json: {"items": [...], "next_after_id": n | null}; pass next_after_id as after_id
 * for the next page. An item whose details cannot be opened has "connection_details": null
 * and "error": {"code": n, "message": "..."} instead of failing the page: check for it
 * before reading connection_details. */
DHC_API dhc_code dhc_connection_list(dhc_store *store, const char *query_json, uint32_t flags,
                                     char **out_json, dhc_error **err);

/* Changes a connection. patch_json holds any of
 *   "name", "description" (string, or null to clear), "tags" (replaces them; [] clears,
 *   null is refused),
 *   "connection_details" (merged field by field: a field set to null is removed, others
 *   replace the stored value, the rest are kept, so a redacted password can stay as is;
 *   a field removed must be one of the type's or one the row holds)
 * and exactly one of
 *   "expected_updated_at": "<updated_at as read>"   DHC_CONFLICT if the row changed since
 *   "force": true                                    last writer wins
 * actor becomes updated_by. A patch with no field to change is still a write: updated_at
 * and updated_by change. *out_json: the updated record, secrets redacted. */
DHC_API dhc_code dhc_connection_update(dhc_store *store, int64_t id, const char *patch_json,
                                       const char *actor, char **out_json, dhc_error **err);

/* Deletes a connection. DHC_NOT_FOUND when there is none. */
DHC_API dhc_code dhc_connection_delete(dhc_store *store, int64_t id, dhc_error **err);

/* ---- Bulk ---------------------------------------------------------------------------- */

/* Creates every connection of a JSON array of create documents, or none: all are
 * validated first (a field is named "connections[i].<field>"), then written in batches of
 * 1000 in one transaction. *out_json: {"items": [...]} in input order, secrets redacted. */
DHC_API dhc_code dhc_connection_create_many(dhc_store *store, const char *connections_json,
                                            const char *actor, char **out_json,
                                            dhc_error **err);

/* Called once per record by dhc_connection_for_each with the record's JSON, which is valid
 * only during the call (copy what you keep; it is wiped afterwards). Return 0 to go on,
 * anything else to stop. */
typedef int (*dhc_record_callback)(void *user_data, const char *record_json);

/* Streams every record matching query_json (the list query; its "limit" is the page size
 * fetched at a time) to `callback`, in id order, in constant memory. Items that cannot be
 * opened come with "error" as in list. Stopping early is not an error. The callback runs
 * on the calling thread. */
DHC_API dhc_code dhc_connection_for_each(dhc_store *store, const char *query_json,
                                         uint32_t flags, dhc_record_callback callback,
                                         void *user_data, dhc_error **err);

/* ---- Using a stored connection ------------------------------------------------------ */

/* Opens one real session to connection `id`'s target database (libpq keyword/value
 * arrays; the password decrypted in memory only), then closes it. options_json (NULL or ""
 * means {}): {"timeout_ms": 10000} for the whole attempt, 100 ms to 1 h.
 * A failure of the target is a result, not an error:
 * *result_json: {"ok": true|false, "latency_ms": 1.234, "server_version": "15.18 ..." | null,
 *   "server_version_num": 150018 | null,
 *   "failure": null | "unreachable" | "authentication_failed" | "database_missing" | "tls"
 *              | "timeout" | "other",
 *   "sqlstate": null | "28P01", "message": null | "..."}   the message never holds the password
 * Errors: those of dhc_connection_get (DHC_NOT_FOUND, DHC_INTEGRITY, DHC_KEY_UNAVAILABLE),
 * DHC_INVALID_ARGUMENT for bad options. Blocks the calling thread for at most the timeout. */
DHC_API dhc_code dhc_connection_test(dhc_store *store, int64_t id, const char *options_json,
                                     char **result_json, dhc_error **err);

/* Connection `id` as a libpq conninfo (host='db' port='5432' dbname='main' user='app' ...,
 * every value quoted so any value survives libpq's parser) or as a URI
 * (postgresql://app@db:5432/main?sslmode=require, percent-encoded). *out is plain text, not
 * JSON. The password is included only with DHC_REVEAL_SECRETS: the string is then a
 * secret (dhc_string_free wipes it). Errors: those of dhc_connection_get. */
DHC_API dhc_code dhc_connection_conninfo(dhc_store *store, int64_t id, uint32_t flags,
                                         char **out, dhc_error **err);
DHC_API dhc_code dhc_connection_uri(dhc_store *store, int64_t id, uint32_t flags, char **out,
                                    dhc_error **err);

/* ---- Keys ---------------------------------------------------------------------------- */

/* Rows per key id and cipher, from one pass over the table (decrypts nothing):
 * {"primary": "k2", "keys": [{"kid": "k1", "alg": "A256GCM", "rows": 10}, ...]}
 * Rows with no key id (another client's: in clear, or damaged) count under "kid": "". 
 * DHC_KEY_UNAVAILABLE when the provider's primary key id is malformed. */
DHC_API dhc_code dhc_keys_census(dhc_store *store, char **out_json, dhc_error **err);

/* Moves every row sealed under a key other than the primary onto it, online, in batches,
 * never overwriting a concurrent edit; resumable (run it again after any interruption).
 * options_json (NULL or "" means {}):
 *   {"batch_size": 500, "dry_run": false, "reencrypt": false, "workers": 1}   all optional
 * reencrypt: seal afresh with a new data key under the store's cipher (also moves rows to
 * another cipher) instead of only re-wrapping the data key. workers (1-16): batches in
 * flight at once, each holding a pooled session only for its statements (so they may
 * outnumber pool_size); the extra ones run on library threads, which also call the key
 * provider.
 * *report_json: {"scanned": n, "rewritten": n, "skipped_changed": n, "failed": n,
 *                "remaining_estimate": n}; rows that failed are listed by dhc_keys_verify. */
DHC_API dhc_code dhc_keys_rotate(dhc_store *store, const char *options_json,
                                 char **report_json, dhc_error **err);

/* Called on the calling thread after every batch of dhc_keys_rotate_with_progress that
 * thread finished, with the report so far (the JSON shape above, valid only during the
 * call), and once more at the end if other workers finished batches after that. Return
 * 0 to go on, anything else to stop the rotation: batches already written stay written,
 * other workers finish the batch they hold, and the call returns DHC_OK with a report that
 * counts every batch written. The callback is not called again after it asked to stop. */
typedef int (*dhc_progress_callback)(void *user_data, const char *report_json);

DHC_API dhc_code dhc_keys_rotate_with_progress(dhc_store *store, const char *options_json,
                                               dhc_progress_callback progress, void *user_data,
                                               char **report_json, dhc_error **err);

/* Opens every row and lists those that fail; changes nothing.
 * *report_json: {"checked": n, "failed": [{"id": n, "code": n, "message": "..."}]} */
DHC_API dhc_code dhc_keys_verify(dhc_store *store, char **report_json, dhc_error **err);

#ifdef __cplusplus
}
#endif

#endif /* DATAHUB_CONNECTIONS_H */
