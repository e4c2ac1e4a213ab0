// ConnectionStore::restore: exact records, all or nothing, the id sequence moved on.
#include "support.hpp"

#include "common/restore_record.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

using datahub::Secrets;

namespace {

datahub::Connection record(std::int64_t id, const std::string& name) {
  return test::restore_record(id, name, "pw");
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

TEST_CASE("a record the server rejects is named by its id, not its values") {
  test::clear_table();
  test::store().restore({record(1, "taken name")});
  struct UniqueNames {  // dropped however the test ends: later tests write repeated names
    UniqueNames() { test::admin_exec("CREATE UNIQUE INDEX restore_test_unique_name ON database_connections (name)"); }
    ~UniqueNames() { test::admin_exec("DROP INDEX IF EXISTS restore_test_unique_name"); }
  } unique;
  try {
    test::store().restore({record(2, "free name"), record(3, "taken name"), record(4, "other")});
    FAIL("the server took every row");
  } catch (const datahub::Database& e) {
    CHECK(e.sqlstate() == "23505");
    CHECK_MESSAGE(std::string(e.what()).find("(SQLSTATE 23505) at connection 3") != std::string::npos, e.what());
    CHECK(std::string(e.what()).find("taken name") == std::string::npos);
  }
  CHECK(test::row_count() == 1);
}

TEST_CASE("a record read with its secrets redacted is refused: restoring it would drop them") {
  test::clear_table();
  test::store().restore({record(7, "source")});
  auto redacted = test::store().get(7);  // Secrets::redact: no password, "password" in redacted
  REQUIRE(redacted.redacted == std::vector<std::string>{"password"});
  redacted.id = 8;
  try {
    test::store().restore({record(9, "ok"), redacted});
    FAIL("restore accepted a redacted record");
  } catch (const datahub::InvalidArgument& e) {
    CHECK(e.field() == "records[1].redacted");
  }
  CHECK(test::row_count() == 1);
  // Cleared on purpose, the record is restored without its secrets.
  redacted.redacted.clear();
  test::store().restore({redacted});
  CHECK_FALSE(test::store().get(8, Secrets::reveal).details.find_string("password"));
  // The revealed record carries them and is restored whole.
  auto revealed = test::store().get(7, Secrets::reveal);
  revealed.id = 10;
  test::store().restore({revealed});
  CHECK(*test::store().get(10, Secrets::reveal).details.find_string("password") == "pw");
}

namespace {

// A source for restore(next): `batches` of `per_batch` records, ids counted up from `first_id`,
// then `last` (if set) is called for what the batch after them holds.
std::function<void(std::vector<datahub::Connection>&)> batches(
    std::int64_t first_id, int count, int per_batch,
    std::function<void(std::vector<datahub::Connection>&)> last = {}) {
  auto given = std::make_shared<int>(0);
  return [=](std::vector<datahub::Connection>& batch) {
    CHECK(batch.empty());
    if (*given == count) {
      ++*given;
      if (last) last(batch);
      return;
    }
    for (int i = 0; i < per_batch; ++i) {
      const std::int64_t id = first_id + *given * per_batch + i;
      batch.push_back(record(id, "batch " + std::to_string(id)));
    }
    ++*given;
  };
}

}  // namespace

TEST_CASE("restore from batches writes every batch and moves the sequence past them") {
  test::clear_table();
  test::admin_exec("SELECT setval(pg_get_serial_sequence('database_connections', 'id'), 1, false)");
  test::store().restore(batches(1, 3, 4));
  CHECK(test::row_count() == 12);
  const auto last = test::store().get(12, Secrets::reveal);
  CHECK(last.name == "batch 12");
  CHECK(*last.details.find_string("password") == "pw");
  CHECK(last.updated_at == datahub::parse_timestamp("2024-03-21T11:30:00.654321Z"));
  CHECK(test::store().create(fresh(), "t").id == 13);

  // No batch at all: nothing to do, not even a transaction.
  test::store().restore([](std::vector<datahub::Connection>&) {});
  CHECK(test::row_count() == 13);
}

TEST_CASE("restore from batches: a failure in a later batch rolls back the batches written") {
  test::clear_table();
  // An exception of the source's own passes unchanged.
  struct SourceFailed {};
  CHECK_THROWS_AS(test::store().restore(batches(1, 3, 4, [](auto&) { throw SourceFailed{}; })), SourceFailed);
  CHECK(test::row_count() == 0);

  // An invalid record: its index counts across batches.
  try {
    test::store().restore(batches(1, 3, 4, [](auto& batch) {
      batch.push_back(record(100, "ok"));
      batch.push_back(record(101, std::string(101, 'x')));
    }));
    FAIL("restore accepted a bad record");
  } catch (const datahub::InvalidArgument& e) {
    CHECK(e.field() == "records[13].name");
  }
  CHECK(test::row_count() == 0);

  // An id of an earlier batch again, or twice in one batch, or already in the table.
  CHECK_THROWS_AS(test::store().restore(batches(1, 3, 4, [](auto& batch) { batch.push_back(record(2, "again")); })),
                  datahub::Conflict);
  CHECK_THROWS_AS(test::store().restore(batches(1, 1, 4, [](auto& batch) {
                    batch.push_back(record(50, "a"));
                    batch.push_back(record(50, "b"));
                  })),
                  datahub::Conflict);
  CHECK(test::row_count() == 0);
  test::store().restore({record(9, "taken")});
  try {
    test::store().restore(batches(1, 3, 4));
    FAIL("restore wrote over a taken id");
  } catch (const datahub::Conflict& e) {
    CHECK(std::string(e.what()).find("connection 9 already exists") != std::string::npos);
  }
  CHECK(test::row_count() == 1);
}

TEST_CASE("restore keeps COPY's and arrays' metacharacters as they were written") {
  test::clear_table();
  const std::string nasty = "a\tb\nc\rd\\e\\.f\\N \"g\" {h,i} NULL '; DROP TABLE x; --";
  auto c = record(7, "meta \\.\t\\N");
  c.description = nasty;
  c.tags = {nasty, "\\", "\\N", "NULL", ",", "{}"};
  c.details.set("password", "pw\t\\\n").set("application_name", "app\\\tname");
  c.created_by = "actor\twith\\tab";
  c.updated_by = "\\N";
  test::store().restore({c, record(8, "after")});
  const auto got = test::store().get(7, Secrets::reveal);
  CHECK(got.name == c.name);
  CHECK(got.description == c.description);
  CHECK(got.tags == c.tags);
  CHECK(*got.details.find_string("password") == "pw\t\\\n");
  CHECK(*got.details.find_string("application_name") == "app\\\tname");
  CHECK(got.created_by == c.created_by);
  CHECK(got.updated_by == c.updated_by);
  CHECK(test::store().get(8).name == "after");
}

TEST_CASE("restore keeps times exact to the microsecond from year 1 to 9999, and refuses others") {
  test::clear_table();
  auto c = record(1, "edges");
  c.created_at = datahub::parse_timestamp("0001-01-01T00:00:00.000001Z");
  c.updated_at = datahub::parse_timestamp("9999-12-31T23:59:59.999999Z");
  test::store().restore({c});
  const auto got = test::store().get(1);
  CHECK(got.created_at == c.created_at);
  CHECK(got.updated_at == c.updated_at);

  auto late = record(2, "late");
  late.updated_at = c.updated_at + std::chrono::microseconds(1);
  try {
    test::store().restore({late});
    FAIL("restore accepted the year 10000");
  } catch (const datahub::InvalidArgument& e) {
    CHECK(e.field() == "records[0].updated_at");
  }
  CHECK(test::row_count() == 1);
}
