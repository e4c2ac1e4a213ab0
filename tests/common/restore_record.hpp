// A complete record as an export holds it, for the restore and import tests of both test
// programs (tests/store and tests/target).
#pragma once

#include <datahub/connections.hpp>

#include <cstdint>
#include <string>

namespace test {

inline datahub::Connection restore_record(std::int64_t id, const std::string& name, const std::string& password) {
  datahub::Connection c;
  c.id = id;
  c.name = name;
  c.type = "POSTGRESQL";
  c.details.set("host", "db").set("database", "main").set("username", "app").set("password", password);
  c.tags = {"restored"};
  c.created_at = datahub::parse_timestamp("2024-03-20T10:00:00.123456Z");
  c.created_by = "user_01";
  c.updated_at = datahub::parse_timestamp("2024-03-21T11:30:00.654321Z");
  c.updated_by = "user_02";
  return c;
}

}  // namespace test
