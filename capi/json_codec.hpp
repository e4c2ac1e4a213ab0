// The C ABI's JSON: connection, patch and query documents in; records and pages out.
// Shapes are documented in include/datahub/connections.h and docs/c-api.md.
#pragma once

#include <datahub/connection.hpp>

#include <optional>
#include <vector>

namespace dhc_capi {

// {"name", "description"?, "type", "connection_details", "tags"?}
datahub::NewConnection parse_new_connection(const char* json);
// A JSON array of such objects; fields are named "connections[i].<field>".
std::vector<datahub::NewConnection> parse_new_connections(const char* json);

struct ParsedPatch {
  datahub::ConnectionPatch patch;
  std::optional<datahub::Timestamp> expected_updated_at;  // set unless force
  bool force = false;
};
// Any of name, description, tags, connection_details, plus exactly one of
// expected_updated_at or "force": true.
ParsedPatch parse_patch(const char* json);

// {"type"?, "tags_all"?, "tags_any"?, "name_prefix"?, "after_id"?, "limit"?}; NULL or "": {}.
datahub::ListQuery parse_query(const char* json);

// Malloc'ed JSON text for dhc_string_free().
char* write_record(const datahub::Connection& c);
char* write_page(const datahub::Page& page);                        // {"items", "next_after_id"}
char* write_items(const std::vector<datahub::Connection>& items);  // {"items"}

}  // namespace dhc_capi
