// Export and import: connections as JSON lines, secrets left out or sealed to a passphrase.
//
// One record per line, in the seed's column names:
//   {"id":3,"name":"Production DB","description":null,"type":"POSTGRESQL",
//    "connection_details":{"host":"db","port":5432,"database":"main","username":"app"},
//    "tags":["production"],"created_at":"2024-03-20T10:00:00.000000Z","created_by":"u1",
//    "updated_at":"...","updated_by":"u1","redacted":["password"]}
// Without a passphrase the secret fields (password) are left out and named in "redacted".
// With one, they are sealed instead, never written in clear:
//   "sealed_secrets":{"v":1,"kdf":{"alg":"argon2id","m":65536,"t":3,"p":1},"salt":"<b64>",
//                     "aead":"A256GCM","nonce":"<b64>","ct":"<b64>"}
// The key is stretched from the passphrase with Argon2id (or scrypt) and a random salt,
// once per export; every record gets its own nonce. The AEAD's associated data binds the
// sealed secrets to the record's id, type and clear connection_details, so they cannot be
// moved to another record or pointed at another host without the passphrase.
//
// Thread safety: the functions share no state; the store is thread-safe; the streams are
// the caller's and must not be used by others meanwhile.
#pragma once

#include <datahub/connection.hpp>
#include <datahub/error.hpp>
#include <datahub/export.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace datahub {

class ConnectionStore;

enum class PassphraseKdf { argon2id, scrypt };

struct ExportOptions {
  // Seals the secret fields to this passphrase (at least 8 characters). Empty: secrets
  // are left out. The caller owns it and should wipe it.
  std::optional<std::string> passphrase;
  PassphraseKdf kdf = PassphraseKdf::argon2id;  // argon2id: m=64 MiB, t=3, p=1; scrypt: N=2^15, r=8, p=1
  // Which records (type, tags, name prefix). after_id and limit are ignored: every
  // matching record is written.
  ListQuery filter;
};

struct ExportReport {
  std::int64_t records = 0;   // lines written
  std::int64_t sealed = 0;    // records whose secrets were sealed
  std::int64_t redacted = 0;  // records whose secrets were left out
};

// Writes the records as JSON lines. Records must carry their secrets (Secrets::reveal)
// when sealing; when not sealing, secrets present are left out all the same.
// Throws InvalidArgument("passphrase") for a short passphrase and ("records[i]...") for a
// record that failed to open (its `error` is set), or that import would refuse or change:
// one that breaks create()'s rules (rows other clients wrote can: an empty name, more than
// 100 tags, a tag twice, updated_at before created_at, an id below 1) or has a time at the
// epoch (how a NULL, infinite or out-of-range time reads; restore() refuses it too).
// Nothing is written then; the message names the record's id. (NULL tag elements and a
// multi-dimensional tags array are read flat, and exported so.)
DATAHUB_API ExportReport write_export(const std::vector<Connection>& records, std::ostream& out,
                                      const ExportOptions& options = {});

// Reads every matching record from the store (revealed only when sealing) and writes it.
// Nothing is written unless every record opened and can be imported: a record that fails
// to open throws Integrity or KeyUnavailable naming its id (run `verify`); one import would
// refuse, InvalidArgument as write_export. Throws what store.list() throws, and
// Error(internal) when the stream fails.
DATAHUB_API ExportReport export_connections(ConnectionStore& store, std::ostream& out,
                                            const ExportOptions& options = {});

// A line of an import that cannot be used. `message` names the field, never its value.
struct ImportLineError {
  std::size_t line = 0;                       // 1-based
  ErrorCode code = ErrorCode::invalid_argument;  // or integrity: sealed secrets did not open
  std::string message;
};

struct ImportOptions {
  // Called at most once, when the first line with sealed secrets is met; returns the
  // passphrase. Unset: sealed lines fail with "needs a passphrase".
  std::function<std::string()> passphrase;
  bool dry_run = false;  // read and check everything, write nothing
};

struct ParsedExport {
  std::vector<Connection> records;  // with their secrets when they were sealed and opened
  std::vector<ImportLineError> errors;
  std::int64_t sealed = 0;           // of `records`, those whose secrets were opened
  std::int64_t without_secrets = 0;  // of `records`, those exported with secrets left out
};

// Reads JSON lines (blank lines are skipped) and checks each with the rules create()
// applies, plus id and audit columns. Every bad line is reported; none throws. Reading
// stops at a line over 1 MiB (its end may never come: /dev/zero) or at the 100th bad line
// (a file that is not an export), with a last error saying the rest was not read. A line
// with a NUL byte or a member given twice, a first line that starts with a
// UTF-8 byte-order mark (exports never write one), or whose sealed secrets ask for
// more key-stretching work than the limits allow (16 times the default's per salt, 32 per
// file; docs/cli.md) is a bad line (InvalidArgument), refused before any stretching.
// Throws Error(internal) only when the stream itself fails.
// Holds the whole file in memory: every record, its secrets opened (a few KiB each). For
// callers who want the records; import_connections does not use it, and holds one batch.
DATAHUB_API ParsedExport read_export(std::istream& in, const ImportOptions& options = {});

struct ImportReport {
  std::int64_t records = 0;          // records read and valid
  std::int64_t sealed = 0;           // of them, with sealed secrets opened
  std::int64_t without_secrets = 0;  // of them, imported without their password
  bool written = false;              // false when any line failed, or on a dry run
  std::vector<ImportLineError> errors;
};

// Reads and checks the lines as read_export does, and writes the good records with
// ConnectionStore::restore(next) in one transaction, a batch at a time (1000 records, or
// fewer making 8 MiB of lines): all or nothing, in memory bounded by a batch (~4 MiB for
// typical records) plus 8 bytes per record for the repeated-id check and the report's
// errors, however long the file. The first batch is read before the transaction opens,
// so a file that fails at once takes no lock; from then on other writers wait until the
// import ends, and a `passphrase` first called for a sealed line after the first batch (or
// a key stretched for a later salt) runs with the table locked: a caller that prompts a
// person should ask before the import and have `passphrase` return the answer. At the
// first bad line the transaction is rolled back and the rest of the file is
// still read and checked, writing nothing: the report lists every bad line (up to the
// limits read_export stops at). A dry run
// only reads and checks (the table is not consulted: a taken id is not seen). Throws what
// restore() throws: Conflict when an id is already in the table (nothing written; a bad
// line anywhere in the file is reported instead); Database when the server refuses a row
// or a statement (a constraint, a trigger, a timeout) and Unavailable when the connection
// is lost (nothing written, and the rest of the file is not read); and Error(internal)
// when the stream fails. A hand-written line may hold a password in clear: the library
// wipes its own copies of each line, the stream's buffer is the caller's (a file stream
// can be given a wiped one with pubsetbuf before open, as dhconn does).
DATAHUB_API ImportReport import_connections(ConnectionStore& store, std::istream& in,
                                            const ImportOptions& options = {});

}  // namespace datahub
