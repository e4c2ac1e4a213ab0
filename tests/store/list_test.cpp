// list(): filters, keyset pagination, hostile text, the GIN index, per-row errors.
#include "store/support.hpp"

#include <doctest/doctest.h>
#include <soci/postgresql/soci-postgresql.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <set>
#include <thread>

namespace {

std::vector<std::int64_t> ids(const datahub::Page& page) {
  std::vector<std::int64_t> out;
  for (const auto& c : page.items) out.push_back(c.id);
  return out;
}

datahub::Connection make(const std::string& name, std::vector<std::string> tags) {
  auto c = test::sample(name);
  c.tags = std::move(tags);
  return test::store().create(c, "tester");
}

}  // namespace

TEST_CASE("SQL and array-literal metacharacters round-trip exactly") {
  test::clear_table();
  const std::vector<std::string> hostile{
      "{", "}", ",", "\"", "\\", "NULL", "null", "with space", " leading", "it's", "{a,b}",
      "\"quoted\"", "back\\slash", "'; DROP TABLE database_connections; --", "\xF0\x9F\x94\x91 key",
      "$1", ":name", "E'\\x41'", "%", "_"};
  auto input = test::sample("'; DROP TABLE database_connections; -- {\"x\"} \\ NULL \xF0\x9F\x98\x80");
  input.description = std::string("desc with {braces}, \"quotes\", \\backslash\\, NULL and 'single'");
  input.tags = hostile;
  const auto created = test::store().create(input, "O'Brien \"the\" {admin}");
  const auto got = test::store().get(created.id);
  CHECK(got.name == input.name);
  CHECK(got.description == input.description);
  CHECK(got.tags == hostile);
  CHECK(got.created_by == "O'Brien \"the\" {admin}");

  for (const auto& tag : hostile) {
    CAPTURE(tag);
    datahub::ListQuery q;
    q.tags_all = {tag};
    CHECK(ids(test::store().list(q)) == std::vector<std::int64_t>{created.id});
  }
  datahub::ListQuery q;
  q.tags_all = {"NULL", "{", "\\"};
  CHECK(test::store().list(q).items.size() == 1);
  q.tags_all = {"NUL"};
  CHECK(test::store().list(q).items.empty());
  CHECK(test::store().find_by_name(input.name).size() == 1);
  CHECK(test::row_count() == 1);
}

TEST_CASE("filters: type, all-of tags, any-of tags, name prefix") {
  test::clear_table();
  const auto a = make("alpha-1", {"prod", "eu"});
  const auto b = make("alpha-2", {"prod", "us"});
  const auto c = make("beta", {"dev", "eu"});
  const auto d = make("al%_pha", {"dev"});

  datahub::ListQuery q;
  q.tags_all = {"prod", "eu"};
  CHECK(ids(test::store().list(q)) == std::vector<std::int64_t>{a.id});
  q = {};
  q.tags_any = {"us", "dev"};
  CHECK(ids(test::store().list(q)) == std::vector<std::int64_t>{b.id, c.id, d.id});
  q = {};
  q.tags_all = {"eu"};
  q.tags_any = {"dev", "nothing"};
  CHECK(ids(test::store().list(q)) == std::vector<std::int64_t>{c.id});
  q = {};
  q.name_prefix = "alpha";
  CHECK(ids(test::store().list(q)) == std::vector<std::int64_t>{a.id, b.id});
  q.name_prefix = "al%";  // a literal prefix, not a LIKE pattern
  CHECK(ids(test::store().list(q)) == std::vector<std::int64_t>{d.id});
  q = {};
  q.type = "POSTGRESQL";
  CHECK(test::store().list(q).items.size() == 4);
}

TEST_CASE("keyset pagination visits every row once and ends with no cursor") {
  test::clear_table();
  std::set<std::int64_t> created;
  for (int i = 0; i < 7; ++i) created.insert(make("page " + std::to_string(i), {"paged"}).id);
  std::set<std::int64_t> seen;
  datahub::ListQuery q;
  q.limit = 3;
  int pages = 0;
  for (;;) {
    auto page = test::store().list(q);
    ++pages;
    for (const auto& c : page.items) CHECK(seen.insert(c.id).second);
    if (!page.next_after_id) break;
    CHECK(page.items.size() == 3);
    q.after_id = *page.next_after_id;
  }
  CHECK(pages == 3);
  CHECK(seen == created);
}

TEST_CASE("tag filters use the GIN index") {
  test::clear_table();
  for (int i = 0; i < 50; ++i) make("gin " + std::to_string(i), {"common", "tag-" + std::to_string(i)});
  test::admin() << "ANALYZE database_connections";
  soci::transaction tx(test::admin());
  test::admin() << "SET LOCAL enable_seqscan = off";
  // The same query list() sends first for a tag filter: matching ids, from the GIN index.
  for (const char* predicate : {"tags @> CAST(:t AS text[])", "tags && CAST(:t AS text[])"}) {
    CAPTURE(predicate);
    std::string tags = "{\"tag-7\"}";
    soci::rowset<std::string> plan = (test::admin().prepare <<
        std::string("EXPLAIN SELECT id FROM database_connections WHERE id > 0 AND ") + predicate +
        " LIMIT 10001", soci::use(tags, "t"));
    std::string text;
    for (const auto& line : plan) text += line + "\n";
    CAPTURE(text);
    CHECK(text.find("idx_database_connections_tags") != std::string::npos);
  }
  tx.rollback();
}

TEST_CASE("a row that cannot be opened does not fail the page") {
  test::clear_table();
  const auto good1 = make("good 1", {"mixed"});
  const auto bad = make("bad", {"mixed"});
  const auto good2 = make("good 2", {"mixed"});
  test::admin() << "UPDATE database_connections SET connection_details = "
                   "jsonb_set(connection_details, '{kid}', '\"retired-key\"') WHERE id = :id", soci::use(bad.id);
  const auto other_bad = make("other bad", {"mixed"});
  test::admin() << "UPDATE database_connections SET connection_details = "
                   "jsonb_set(connection_details, '{kid}', '\"retired-key\"') WHERE id = :id", soci::use(other_bad.id);
  std::vector<std::string> warnings;
  datahub::StoreOptions options;
  options.database = test::database();
  options.keys = test::keyring();
  options.log = [&](datahub::LogLevel level, const std::string& message) {
    if (level == datahub::LogLevel::warning) warnings.push_back(message);
  };
  datahub::ConnectionStore store(options);
  datahub::ListQuery q;
  q.tags_all = {"mixed"};
  const auto page = store.list(q);
  // One warning for the page (a missing key would otherwise log each of its rows).
  REQUIRE(warnings.size() == 1);
  CHECK_MESSAGE(warnings[0].rfind("list: 2 of 4 connection(s) could not be opened, the first " + std::to_string(bad.id) +
                              ": key 'retired-key' is not in the keyring", 0) == 0,
                warnings[0]);
  REQUIRE(page.items.size() == 4);
  CHECK_FALSE(page.items[0].error);
  REQUIRE(page.items[1].error);
  CHECK(page.items[1].error->code == datahub::ErrorCode::key_unavailable);
  CHECK(page.items[1].details.empty());
  CHECK(page.items[1].name == "bad");
  CHECK_FALSE(page.items[2].error);
  CHECK(page.items[2].details.find_string("host"));
  CHECK(page.items[3].error);
  CHECK_THROWS_AS(test::store().get(bad.id), datahub::KeyUnavailable);
  (void)good1;
  (void)good2;
}

TEST_CASE("a tag-filtered page stays right while a row is deleted, re-inserted and re-tagged meanwhile") {
  // A tag filter takes two statements (matching ids from the GIN index, then those rows).
  // Another session keeps deleting, re-inserting and re-tagging the first matching row.
  // Whatever it does in between, a page may hold only rows that match, and must point on
  // while rows that nobody touches are still ahead: a for_each must not end early.
  test::clear_table();
  const auto flipped = make("flipped", {"t"});
  std::vector<std::int64_t> untouched;
  for (int i = 0; i < 5; ++i) untouched.push_back(make("steady " + std::to_string(i), {"t"}).id);

  std::atomic<bool> stop{false};
  std::atomic<long> flips{0};
  std::thread flipper([&] {
    soci::session s(soci::postgresql, test::database());
    const long long id = flipped.id;
    s << "CREATE TEMP TABLE saved AS SELECT * FROM database_connections WHERE id = :id", soci::use(id);
    while (!stop) {
      s << "DELETE FROM database_connections WHERE id = :id", soci::use(id);
      s << "INSERT INTO database_connections SELECT * FROM saved";
      s << "UPDATE database_connections SET tags = '{u}' WHERE id = :id", soci::use(id);
      s << "UPDATE database_connections SET tags = '{t}' WHERE id = :id", soci::use(id);
      ++flips;
    }
  });

  datahub::ListQuery q;
  q.tags_all = {"t"};
  q.limit = 1;
  long pages = 0, wrong_rows = 0, ended_early = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  while (std::chrono::steady_clock::now() < deadline && wrong_rows + ended_early < 5) {
    const auto page = test::store().list(q);
    ++pages;
    for (const auto& c : page.items) {
      if (std::find(c.tags.begin(), c.tags.end(), "t") == c.tags.end()) ++wrong_rows;
    }
    if (!page.next_after_id) ++ended_early;  // four untouched rows lie beyond any first page
  }
  stop = true;
  flipper.join();
  MESSAGE(pages << " pages against " << flips.load() << " flips");
  CHECK(flips > 0);
  CHECK(wrong_rows == 0);
  CHECK(ended_early == 0);
  // And a whole walk still sees every untouched row exactly once.
  std::vector<std::int64_t> seen;
  test::store().for_each(q, [&](const datahub::Connection& c) {
    seen.push_back(c.id);
    return true;
  });
  CHECK(std::count(seen.begin(), seen.end(), flipped.id) == 1);
  seen.erase(std::remove(seen.begin(), seen.end(), flipped.id), seen.end());
  CHECK(seen == untouched);
}
