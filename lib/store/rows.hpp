// Reading database_connections rows, still sealed.
#pragma once

#include "store/pq.hpp"

#include <optional>
#include <string>
#include <vector>

namespace datahub::store {

// One row as stored: details still in their envelope.
struct StoredRow {
  long long id = 0;
  std::string name;
  std::optional<std::string> description;
  std::string type;
  std::string envelope;   // connection_details as JSON text
  std::string tags_json;  // tags as a JSON array
  long long created_us = 0;
  std::string created_by;
  long long updated_us = 0;
  std::string updated_by;
};

// True when a timestamp column holds a time this library reads and writes: years 1 to
// 9999 in UTC, the range of format_timestamp and parse_timestamp. The seed's columns also
// allow NULL, +-infinity and years up to 294276 (written by other clients).
std::string is_usable_time(const std::string& column);

// A timestamp column as integer microseconds since the epoch: exact, and no time-zone or
// text-format parsing on this side. A time is_usable_time refuses reads as 0 rather than
// failing the whole statement (or coming back as text no call accepts).
std::string micros_since_epoch(const std::string& column);

// Column list matching StoredRow, for "SELECT <row_columns()> FROM database_connections ...".
const std::string& row_columns();

// The rows of a result that selected row_columns().
std::vector<StoredRow> rows_from(const PGresult* result);

// Runs `query` (which selects row_columns()) and returns every row.
std::vector<StoredRow> fetch_rows(const SessionPool::Lease& lease, const std::string& query,
                                  const Params& params, const std::string& operation);

// A row as key management sees it: the envelope, and what rotate's unchanged-check compares.
struct SealedRow {
  long long id = 0;
  std::string envelope;
  long long updated_us = 0;
  std::string mid, edk;  // the envelope's message id and wrapped key
};

// The sealed rows matching `where` (a fixed fragment after WHERE, ORDER BY included; its
// values are parameters in `params`).
std::vector<SealedRow> read_sealed(const SessionPool::Lease& lease, const std::string& where,
                                   const Params& params, const std::string& operation);

// A row as a re-wrap sees it: the envelope's "kid" and "edk" members as text ("" when
// missing), which its write compares; its "v" as JSON text ("1" for the number, "\"1\"" for
// a string; "" when kid or edk is not a JSON string); and, read only when `whole_envelope`,
// the whole envelope, whose ciphertext checks what a host's provider unwraps (RecordCodec::
// rewrap_key). The server's text output of whole envelopes was a fifth of a re-wrap's cost.
struct WrappedKeyRow {
  long long id = 0;
  std::string kid, edk, version;
  std::string envelope;
};

std::vector<WrappedKeyRow> read_wrapped_keys(const SessionPool::Lease& lease, const std::string& where,
                                             const Params& params, const std::string& operation,
                                             bool whole_envelope);

}  // namespace datahub::store
