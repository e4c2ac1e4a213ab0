// The records the store takes and returns, named after the seed's columns.
#pragma once

#include <datahub/bytes.hpp>
#include <datahub/details.hpp>
#include <datahub/error.hpp>
#include <datahub/export.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace datahub {

// Timestamps are UTC with microsecond precision, as PostgreSQL stores them.
using Timestamp = std::chrono::time_point<std::chrono::system_clock, std::chrono::microseconds>;

// "2024-03-20T10:00:00.000000Z"
DATAHUB_API std::string format_timestamp(Timestamp t);
// Parses RFC 3339 / ISO-8601 with a "Z" or "+hh:mm" offset and up to 6 fraction digits.
// Throws InvalidArgument(field, ...) when malformed.
DATAHUB_API Timestamp parse_timestamp(std::string_view text, const std::string& field = "timestamp");

// Whether secret detail fields (passwords) are returned.
enum class Secrets { redact, reveal };

// What create() takes.
struct NewConnection {
  std::string name;                        // 1-100 characters
  std::optional<std::string> description;  // at most 10,000 characters
  std::string type = "POSTGRESQL";         // a registered ConnectionType
  Details details;                         // validated against the type, then encrypted
  std::vector<std::string> tags;           // 1-200 characters each; duplicates dropped (order kept), then at most 100
};

// What update() changes; fields left empty are kept.
struct ConnectionPatch {
  std::optional<std::string> name;
  // Left as std::nullopt, the description is kept; set to an empty inner optional
  // (patch.description = std::optional<std::string>{}), it is cleared.
  std::optional<std::optional<std::string>> description;
  // Replaces the tags; NewConnection::tags' rules apply (duplicates dropped, limits).
  std::optional<std::vector<std::string>> tags;
  // Merged into the stored details field by field (JSON merge patch): a field named here
  // replaces the stored one, a field in details_remove is removed, others are kept. So a
  // client that only saw redacted details can change the host without knowing the password.
  // A field removed must be one of the type's, or one the row holds (InvalidArgument).
  Details details;
  std::vector<std::string> details_remove;

  bool empty() const noexcept {
    return !name && !description && !tags && details.empty() && details_remove.empty();
  }
};

// Why one row of a list could not be opened (its details are then empty).
struct RowError {
  ErrorCode code = ErrorCode::ok;
  std::string message;
};

// A stored connection.
struct Connection {
  std::int64_t id = 0;
  std::string name;
  std::optional<std::string> description;
  std::string type;
  Details details;                    // without secret fields unless Secrets::reveal
  std::vector<std::string> redacted;  // secret fields that are set but were left out
  // Rows written by other clients may hold what this library never writes: a NULL tag
  // element is left out here (and kept in the row by an update that does not set tags), a
  // multi-dimensional tags array reads flat, and a NULL or infinite time, or one outside
  // the years 1-9999 that format_timestamp writes, reads as the epoch.
  std::vector<std::string> tags;
  Timestamp created_at;
  std::string created_by;
  Timestamp updated_at;  // pass back to update() as expected_updated_at
  std::string updated_by;

  std::string key_id;  // the key-encryption key the details are sealed under
  std::string alg;     // the cipher they are sealed with
  // Sealed under a key that is not the primary (the next update re-seals it); false when the
  // provider cannot name a valid primary key id.
  bool stale = false;
  // list(), find_by_name() and for_each() only: this row's details could not be opened.
  // key_id, alg and stale are still set when the envelope itself is readable (say, its key
  // is not in the keyring).
  std::optional<RowError> error;
};

// Filters for list(); all given filters must hold.
struct ListQuery {
  std::optional<std::string> type;   // a registered ConnectionType
  std::vector<std::string> tags_all;  // has every one of these tags
  std::vector<std::string> tags_any;  // has at least one of these tags
  std::optional<std::string> name_prefix;
  // Keyset pagination: rows with id > after_id, by id. The table's ids start at 1, but
  // another client may write 0 or negative ones: INT64_MIN reaches every row.
  std::int64_t after_id = 0;
  int limit = 100;            // 1-1000
};

struct Page {
  std::vector<Connection> items;
  // Pass as after_id for the next page; empty at the end. A page may hold fewer than `limit`
  // items, even none, and still have one: with a tag filter a page takes two statements,
  // and rows deleted or changed between them are left out.
  std::optional<std::int64_t> next_after_id;
};

// The record as one compact JSON object, the shape the C ABI returns: the seed's column
// names (description null when absent, times as format_timestamp writes them), then
// "redacted", "key_id", "alg", "stale", and, for a row whose details could not be opened,
// "error": {"code": n, "message": "..."} with "connection_details": null. Written into
// wiped memory, since revealed details hold secrets; not NUL-terminated.
DATAHUB_API SecretBytes to_json(const Connection& c);

}  // namespace datahub
