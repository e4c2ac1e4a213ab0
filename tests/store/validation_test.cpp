// Bad input: a typed InvalidArgument naming the field, and the table unchanged.
#include "store/support.hpp"

#include <doctest/doctest.h>

#include <functional>

namespace {

// Runs `action`, expects InvalidArgument naming `field`, and an unchanged row count.
void expect_rejected(const std::string& field, const std::function<void()>& action) {
  CAPTURE(field);
  const long long before = test::row_count();
  try {
    action();
    FAIL("accepted bad input for " << field);
  } catch (const datahub::InvalidArgument& e) {
    CHECK(e.field() == field);
    CHECK(std::string(e.what()).find("Pa55-word-MARKER") == std::string::npos);
  }
  CHECK(test::row_count() == before);
}

void create(const datahub::NewConnection& c, const std::string& actor = "tester") {
  test::store().create(c, actor);
}

}  // namespace

TEST_CASE("create rejects bad input without touching the table") {
  test::clear_table();
  test::store().create(test::sample("one good row"), "tester");

  auto c = test::sample("x");
  c.name = std::string(101, 'n');
  expect_rejected("name", [&] { create(c); });
  c.name = "";
  expect_rejected("name", [&] { create(c); });
  c.name = std::string("nul\0byte", 8);
  expect_rejected("name", [&] { create(c); });
  c.name = "bad \xC3\x28 utf8";
  expect_rejected("name", [&] { create(c); });

  expect_rejected("actor", [&] { create(test::sample("ok"), std::string(51, 'a')); });
  expect_rejected("actor", [&] { create(test::sample("ok"), ""); });

  c = test::sample("ok");
  c.description = std::string("nul\0inside", 10);
  expect_rejected("description", [&] { create(c); });

  c = test::sample("ok");
  c.tags = {"fine", ""};
  expect_rejected("tags[1]", [&] { create(c); });
  c.tags = {"\xFF"};
  expect_rejected("tags[0]", [&] { create(c); });

  c = test::sample("ok");
  c.type = "MYSQL";
  expect_rejected("type", [&] { create(c); });

  for (std::int64_t port : {0, 70000, -1}) {
    c = test::sample("ok");
    c.details.set("port", port);
    expect_rejected("connection_details.port", [&] { create(c); });
  }
  c = test::sample("ok");
  c.details.set("port", "5432");  // a string, not an integer
  expect_rejected("connection_details.port", [&] { create(c); });

  c = test::sample("ok");
  c.details.erase("host");
  expect_rejected("connection_details.host", [&] { create(c); });
  c = test::sample("ok");
  c.details.set("sslmode", "sometimes");
  expect_rejected("connection_details.sslmode", [&] { create(c); });
  c = test::sample("ok");
  c.details.set("hostaddr", "10.0.0.1");
  expect_rejected("connection_details.hostaddr", [&] { create(c); });
  c = test::sample("ok");
  c.details.set("password", std::string("Pa55-word-MARKER\0", 17));
  expect_rejected("connection_details.password", [&] { create(c); });
  c = test::sample("ok");
  c.details.set("password", "Pa55-word-MARKER" + std::string(2000, 'x'));
  expect_rejected("connection_details.password", [&] { create(c); });

  expect_rejected("connection_details", [] { datahub::Details::from_json("{\"host\": "); });
  expect_rejected("connection_details", [] { datahub::Details::from_json("[1,2]"); });

  CHECK(test::row_count() == 1);
}

TEST_CASE("100 characters is the limit, counted in characters, not bytes") {
  test::clear_table();
  std::string emoji;
  for (int i = 0; i < 100; ++i) emoji += "\xF0\x9F\x94\x91";  // 400 bytes, 100 characters
  auto c = test::sample(emoji);
  const auto created = test::store().create(c, std::string(50, 'a'));
  CHECK(test::store().get(created.id).name == emoji);
  c.name = emoji + "x";
  expect_rejected("name", [&] { create(c); });
}

TEST_CASE("database and username are at most 63 bytes, PostgreSQL's identifier limit") {
  test::clear_table();
  std::string two_byte;
  for (int i = 0; i < 31; ++i) two_byte += "\xC3\xA9";  // 62 bytes, 31 characters
  auto c = test::sample("identifiers");
  c.details.set("database", two_byte + "d").set("username", std::string(63, 'u'));
  CHECK(test::store().create(c, "tester").details.find_string("database"));
  c.details.set("database", two_byte + "\xC3\xA9");  // 64 bytes in 32 characters
  expect_rejected("connection_details.database", [&] { create(c); });
  c.details.set("database", "d").set("username", std::string(64, 'u'));
  expect_rejected("connection_details.username", [&] { create(c); });
}

TEST_CASE("update rejects bad input without touching the row") {
  test::clear_table();
  auto& store = test::store();
  const auto created = store.create(test::sample("target"), "tester");
  const auto before = store.get(created.id, datahub::Secrets::reveal);

  datahub::ConnectionPatch p;
  p.name = std::string(101, 'n');
  expect_rejected("name", [&] { store.update(created.id, p, "tester", created.updated_at); });
  p = {};
  p.details.set("port", 0);
  expect_rejected("connection_details.port", [&] { store.update(created.id, p, "tester", created.updated_at); });
  p = {};
  p.details.set("bogus", "x");
  expect_rejected("connection_details.bogus", [&] { store.update(created.id, p, "tester", created.updated_at); });
  p = {};
  p.name = "fine";
  expect_rejected("actor", [&] { store.update(created.id, p, std::string(51, 'b'), created.updated_at); });
  CHECK_THROWS_AS(store.update(0, p, "tester", created.updated_at), datahub::NotFound);  // no row can have it

  const auto after = store.get(created.id, datahub::Secrets::reveal);
  CHECK(after.name == before.name);
  CHECK(after.details == before.details);
  CHECK(after.updated_at == before.updated_at);
}

TEST_CASE("list rejects bad queries") {
  auto& store = test::store();
  datahub::ListQuery q;
  q.limit = 0;
  expect_rejected("limit", [&] { store.list(q); });
  q.limit = 1001;
  expect_rejected("limit", [&] { store.list(q); });
  q = {};
  q.tags_any = {""};
  expect_rejected("tags_any[0]", [&] { store.list(q); });
  q = {};
  q.type = "ORACLE";
  expect_rejected("type", [&] { store.list(q); });
}
