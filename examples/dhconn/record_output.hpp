// How records look: aligned fields or a table for people, JSON for scripts.
#pragma once

#include <datahub/connection.hpp>

#include <ostream>
#include <string>
#include <vector>

namespace dhconn {

// One record as "field  value" lines; redacted secrets are shown as such.
void print_record(std::ostream& out, const datahub::Connection& c);

// Records as a table: ID NAME TYPE TARGET TAGS UPDATED_AT. Rows that failed to open say so.
void print_table(std::ostream& out, const std::vector<datahub::Connection>& records);

// One record as a compact JSON object, the C ABI's shape (datahub::to_json): the seed's
// column names, plus "redacted", "key_id", "alg", "stale", and "error" when it failed to open.
std::string record_json(const datahub::Connection& c);
// Several, as a JSON array.
std::string records_json(const std::vector<datahub::Connection>& records);

}  // namespace dhconn
