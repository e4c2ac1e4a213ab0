// ConnectionStore::restore: exact records, all or nothing, the id sequence moved on.
#include "support.hpp"

#include <doctest/doctest.h>

using datahub::Secrets;

namespace {

datahub::Connection record(std::int64_t id, const std::string& name) {
  datahub::Connection c;
  c.id = id;
  c.name = name;
  c.type = "POSTGRESQL";
  c.details.set("host", "db").set("database", "main").set("username", "app").set("password", "pw");
  c.tags = {"restored"};
  c.created_at = datahub::parse_timestamp("2024-03-20T10:00:00.123456Z");
  c.created_by = "user_01";
  c.updated_at = datahub::parse_timestamp("2024-03-21T11:30:00.654321Z");
  c.updated_by = "user_02";
  return c;
}

datahub::NewConnection fresh() {
  datahub::NewConnection c;
  c.name = "fresh";
  c.details.set("host", "h").set("database", "d").set("username", "u");
  return c;
}

}  // namespace

TEST_CASE("restore writes records exactly and moves the id sequence past them") {
  test::clear_table();
  // Whatever ran before, the sequence starts low, so "past them" means exactly 42.
  test::admin_exec("SELECT setval(pg_get_serial_sequence('database_connections', 'id'), 1, false)");
  test::store().restore({record(41, "a"), record(40, "b")});
  const auto a = test::store().get(41, Secrets::reveal);
  CHECK(a.name == "a");
  CHECK(a.created_at == datahub::parse_timestamp("2024-03-20T10:00:00.123456Z"));
  CHECK(a.updated_at == datahub::parse_timestamp("2024-03-21T11:30:00.654321Z"));
  CHECK(a.created_by == "user_01");
  CHECK(a.updated_by == "user_02");
  CHECK(*a.details.find_string("password") == "pw");
  CHECK(*a.details.find_integer("port") == 5432);  // defaults filled in, as create does
  CHECK(a.key_id == "target-test");
  CHECK(test::store().create(fresh(), "t").id == 42);
}

TEST_CASE("restore never moves the sequence backwards") {
  test::clear_table();
  const auto high = test::store().create(fresh(), "t").id + 100;
  test::store().restore({record(high, "high")});
  test::store().remove(high);
  test::store().restore({record(1, "low")});
  CHECK(test::store().create(fresh(), "t").id > high);
}

TEST_CASE("one bad record, a repeated id or a taken id: nothing is written") {
  test::clear_table();
  auto bad = record(2, std::string(101, 'x'));
  try {
    test::store().restore({record(1, "ok"), bad});
    FAIL("restore accepted a bad record");
  } catch (const datahub::InvalidArgument& e) {
    CHECK(e.field() == "records[1].name");
  }
  CHECK(test::row_count() == 0);

  CHECK_THROWS_AS(test::store().restore({record(1, "a"), record(1, "b")}), datahub::InvalidArgument);
  auto no_port = record(3, "bad details");
  no_port.details.set("port", 0);
  CHECK_THROWS_AS(test::store().restore({no_port}), datahub::InvalidArgument);
  CHECK(test::row_count() == 0);

  test::store().restore({record(5, "taken")});
  CHECK_THROWS_AS(test::store().restore({record(4, "new"), record(5, "again")}), datahub::Conflict);
  CHECK(test::row_count() == 1);
}
