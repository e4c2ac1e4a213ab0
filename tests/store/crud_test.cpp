// create / get / find_by_name / update / remove against the real table.
#include "store/support.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <thread>

using datahub::Secrets;

namespace {

const std::string* password_of(const datahub::Connection& c) { return c.details.find_string("password"); }

}  // namespace

TEST_CASE("create returns the stored record; get redacts unless asked to reveal") {
  auto& store = test::store();
  test::clear_table();
  auto input = test::sample("Production DB");
  input.description = "Main production database";
  input.tags = {"production", "main", "production"};
  const auto created = store.create(input, "user_01");

  CHECK(created.id > 0);
  CHECK(created.name == "Production DB");
  CHECK(created.description == input.description);
  CHECK(created.tags == std::vector<std::string>{"production", "main"});
  CHECK(created.created_by == "user_01");
  CHECK(created.updated_by == "user_01");
  CHECK(created.created_at == created.updated_at);
  CHECK(password_of(created) == nullptr);
  CHECK(created.redacted == std::vector<std::string>{"password"});

  // Timestamps are the server's, to the microsecond.
  long long server_us = 0;
  test::admin() << "SELECT CAST(extract(epoch FROM created_at) * 1000000 AS bigint) FROM "
                   "database_connections WHERE id = :id", soci::use(created.id), soci::into(server_us);
  CHECK(created.created_at.time_since_epoch().count() == server_us);

  const auto shown = store.get(created.id);
  CHECK(shown.name == created.name);
  CHECK(shown.tags == created.tags);
  CHECK(shown.created_at == created.created_at);
  CHECK(password_of(shown) == nullptr);
  CHECK(shown.redacted == std::vector<std::string>{"password"});
  REQUIRE(shown.details.find_string("host"));
  CHECK(*shown.details.find_string("host") == "db.internal.example");
  CHECK(*shown.details.find_integer("port") == 6432);
  CHECK_FALSE(shown.stale);
  CHECK(shown.key_id == "k1");
  CHECK(shown.alg == "A256GCM");

  const auto revealed = store.get(created.id, Secrets::reveal);
  REQUIRE(password_of(revealed));
  CHECK(*password_of(revealed) == "Pa55-word-MARKER");
  CHECK(revealed.redacted.empty());
}

TEST_CASE("a connection without a password redacts nothing; the port defaults to 5432") {
  auto& store = test::store();
  test::clear_table();
  datahub::NewConnection c;
  c.name = "no password";
  c.details.set("host", "h").set("database", "d").set("username", "u");
  const auto created = store.create(c, "tester");
  CHECK(created.redacted.empty());
  CHECK(*store.get(created.id).details.find_integer("port") == 5432);
  CHECK_FALSE(store.get(created.id).description.has_value());
}

TEST_CASE("find_by_name returns every row with that name, by id") {
  auto& store = test::store();
  test::clear_table();
  const auto a = store.create(test::sample("twin"), "tester");
  store.create(test::sample("other"), "tester");
  const auto b = store.create(test::sample("twin"), "tester");
  const auto found = store.find_by_name("twin");
  REQUIRE(found.size() == 2);
  CHECK(found[0].id == a.id);
  CHECK(found[1].id == b.id);
  CHECK(store.find_by_name("nobody").empty());
}

TEST_CASE("update patches fields, merges details, and checks the version") {
  auto& store = test::store();
  test::clear_table();
  const auto created = store.create(test::sample("before"), "creator");

  datahub::ConnectionPatch patch;
  patch.name = "after";
  patch.details.set("host", "new-host.example");
  const auto updated = store.update(created.id, patch, "editor", created.updated_at);
  CHECK(updated.name == "after");
  CHECK(updated.updated_by == "editor");
  CHECK(updated.created_by == "creator");
  CHECK(updated.created_at == created.created_at);
  CHECK(updated.updated_at > created.updated_at);
  const auto revealed = store.get(created.id, Secrets::reveal);
  CHECK(*revealed.details.find_string("host") == "new-host.example");
  CHECK(*password_of(revealed) == "Pa55-word-MARKER");  // kept: a merge, not a replace
  CHECK(revealed.updated_at == updated.updated_at);

  SUBCASE("a stale expected_updated_at is a Conflict and changes nothing") {
    datahub::ConnectionPatch late;
    late.name = "lost update";
    CHECK_THROWS_AS(store.update(created.id, late, "late", created.updated_at), datahub::Conflict);
    CHECK(store.get(created.id).name == "after");
  }
  SUBCASE("force_update skips the check") {
    datahub::ConnectionPatch admin;
    admin.name = "forced";
    CHECK(store.force_update(created.id, admin, "admin").name == "forced");
  }
  SUBCASE("updated_at strictly increases, even within one clock tick") {
    auto last = updated;
    for (int i = 0; i < 20; ++i) {
      datahub::ConnectionPatch p;
      p.tags = std::vector<std::string>{"round-" + std::to_string(i)};
      auto next = store.update(created.id, p, "loop", last.updated_at);
      CHECK(next.updated_at > last.updated_at);
      last = next;
    }
  }
  SUBCASE("description can be set and cleared; details fields removed") {
    datahub::ConnectionPatch p;
    p.description = std::optional<std::string>("described");
    p.details_remove = {"password"};
    auto d = store.update(created.id, p, "editor", updated.updated_at);
    CHECK(d.description == std::optional<std::string>("described"));
    CHECK(d.redacted.empty());
    datahub::ConnectionPatch clear;
    clear.description = std::optional<std::string>();
    CHECK_FALSE(store.update(created.id, clear, "editor", d.updated_at).description.has_value());
  }
  SUBCASE("removing a required field is refused") {
    datahub::ConnectionPatch p;
    p.details_remove = {"host"};
    CHECK_THROWS_AS(store.update(created.id, p, "editor", updated.updated_at), datahub::InvalidArgument);
    CHECK(*store.get(created.id).details.find_string("host") == "new-host.example");
  }
}

TEST_CASE("remove deletes; missing ids are NotFound") {
  auto& store = test::store();
  test::clear_table();
  const auto created = store.create(test::sample("doomed"), "tester");
  store.remove(created.id);
  CHECK(test::row_count() == 0);
  CHECK_THROWS_AS(store.get(created.id), datahub::NotFound);
  CHECK_THROWS_AS(store.remove(created.id), datahub::NotFound);
  datahub::ConnectionPatch p;
  p.name = "x";
  CHECK_THROWS_AS(store.force_update(created.id, p, "tester"), datahub::NotFound);
  // Ids no row can have (SERIAL is 1 to 2^31-1) are not found either, not invalid: a REST
  // caller maps both to 404.
  for (const std::int64_t impossible : {std::int64_t{0}, std::int64_t{-1}, std::int64_t{2147483648}}) {
    CAPTURE(impossible);
    CHECK_THROWS_AS(store.get(impossible), datahub::NotFound);
    CHECK_THROWS_AS(store.remove(impossible), datahub::NotFound);
    CHECK_THROWS_AS(store.force_update(impossible, p, "tester"), datahub::NotFound);
  }
}

TEST_CASE("the store is shared safely between threads") {
  auto& store = test::store();
  test::clear_table();
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      try {
        for (int i = 0; i < 10; ++i) {
          auto c = store.create(test::sample("thread " + std::to_string(t)), "worker");
          datahub::ConnectionPatch p;
          p.tags = std::vector<std::string>{"t" + std::to_string(t)};
          store.update(c.id, p, "worker", c.updated_at);
          if (store.get(c.id).tags != std::vector<std::string>{"t" + std::to_string(t)}) ++failures;
        }
      } catch (...) {
        ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(failures == 0);
  CHECK(test::row_count() == 80);
}
