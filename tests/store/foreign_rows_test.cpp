// Rows that other clients may write within the seed's DDL, though this library never does:
// NULL tag elements, NULL or infinite timestamps. Each reads as one row, never fails a
// page, a verify or a rotation, and survives an update that does not touch it.
#include "store/support.hpp"

#include <doctest/doctest.h>

namespace {

datahub::Connection created(const std::string& name, std::vector<std::string> tags = {"foreign"}) {
  auto c = test::sample(name);
  c.tags = std::move(tags);
  return test::store().create(c, "tester");
}

std::string stored_tags(std::int64_t id) { return test::stored(id, "tags"); }

}  // namespace

TEST_CASE("a NULL tag element is left out when read, and kept by an update that does not set tags") {
  test::clear_table();
  const auto row = created("null tag", {"a", "b"});
  test::admin() << "UPDATE database_connections SET tags = ARRAY['a', NULL, 'b'] WHERE id = :id", soci::use(row.id);

  CHECK(test::store().get(row.id).tags == std::vector<std::string>{"a", "b"});
  datahub::ListQuery q;
  q.tags_all = {"a"};
  const auto page = test::store().list(q);
  REQUIRE(page.items.size() == 1);
  CHECK_FALSE(page.items[0].error);
  CHECK(page.items[0].tags == std::vector<std::string>{"a", "b"});

  datahub::ConnectionPatch rename;
  rename.name = "renamed";
  const auto updated = test::store().force_update(row.id, rename, "tester");
  CHECK(updated.name == "renamed");
  CHECK(updated.tags == std::vector<std::string>{"a", "b"});
  CHECK(stored_tags(row.id) == "{a,NULL,b}");  // the row's own value, untouched

  datahub::ConnectionPatch retag;
  retag.tags = std::vector<std::string>{"c"};
  CHECK(test::store().force_update(row.id, retag, "tester").tags == std::vector<std::string>{"c"});
  CHECK(stored_tags(row.id) == "{c}");
}

TEST_CASE("a multi-dimensional tags array reads flat") {
  test::clear_table();
  const auto row = created("two-dimensional tags");
  test::admin() << "UPDATE database_connections SET tags = ARRAY[['a', 'b'], ['c', NULL]] WHERE id = :id",
      soci::use(row.id);
  CHECK(test::store().get(row.id).tags == std::vector<std::string>{"a", "b", "c"});
  datahub::ListQuery q;
  q.tags_all = {"c"};
  const auto page = test::store().list(q);
  REQUIRE(page.items.size() == 1);
  CHECK_FALSE(page.items[0].error);
  CHECK(test::store().verify().failed.empty());
}

TEST_CASE("NULL, infinite and far timestamps read as the epoch; update, verify and rotate go on") {
  test::clear_table();
  const auto nulls = created("null times");
  const auto infinite = created("infinite times");
  const auto far = created("times outside years 1-9999");
  const auto plain = created("plain");
  test::admin() << "UPDATE database_connections SET created_at = NULL, updated_at = NULL WHERE id = :id",
      soci::use(nulls.id);
  test::admin() << "UPDATE database_connections SET created_at = '-infinity', updated_at = 'infinity' WHERE id = :id",
      soci::use(infinite.id);
  // Years format_timestamp cannot write in four digits: year 10000 came back as text that
  // update's expected_updated_at (parse_timestamp) refused.
  test::admin() << "UPDATE database_connections SET created_at = '0001-12-31 23:00:00+00 BC', "
                   "updated_at = '10000-01-01 00:00:00+00' WHERE id = :id",
      soci::use(far.id);

  for (const auto id : {nulls.id, infinite.id, far.id}) {
    CAPTURE(id);
    const auto read = test::store().get(id);
    CHECK(read.created_at.time_since_epoch().count() == 0);
    CHECK(read.updated_at.time_since_epoch().count() == 0);
  }
  const auto page = test::store().list({});
  REQUIRE(page.items.size() == 4);
  for (const auto& c : page.items) CHECK_FALSE(c.error);
  CHECK(test::store().verify().checked == 4);
  CHECK(test::store().verify().failed.empty());

  datahub::RotateOptions reencrypt;
  reencrypt.reencrypt = true;
  const auto report = test::open_store(test::keyring(), "XC20P")->rotate(reencrypt);
  CHECK(report.rewritten == 4);
  CHECK(report.skipped_changed == 0);

  datahub::ConnectionPatch p;
  p.details.set("password", "after-null-times");
  const auto updated = test::store().update(nulls.id, p, "tester", datahub::Timestamp{});
  CHECK(updated.created_at.time_since_epoch().count() == 0);
  CHECK(updated.updated_at > plain.updated_at);  // now set: the next optimistic check sees it
  CHECK(*test::store().get(nulls.id, datahub::Secrets::reveal).details.find_string("password") == "after-null-times");

  // An update moves an infinite updated_at to now: else it would stay infinite, read as the
  // epoch, and every update holding the epoch would pass its optimistic check.
  const auto moved = test::store().update(infinite.id, p, "tester", datahub::Timestamp{});
  CHECK(moved.updated_at > plain.updated_at);
  CHECK_THROWS_AS(test::store().update(infinite.id, p, "tester", datahub::Timestamp{}), datahub::Conflict);
  CHECK(test::store().get(infinite.id).updated_at == moved.updated_at);
  // So does one past 9999, read as the epoch too, with the epoch as the caller's check.
  const auto far_read = test::store().get(far.id);
  const auto far_moved = test::store().update(far.id, p, "tester", far_read.updated_at);
  CHECK(far_moved.updated_at > plain.updated_at);
  CHECK(datahub::parse_timestamp(datahub::format_timestamp(far_moved.updated_at), "t") == far_moved.updated_at);
  CHECK_THROWS_AS(test::store().update(far.id, p, "tester", far_read.updated_at), datahub::Conflict);
}
