// create_many (all or nothing, batched) and for_each (streaming).
#include "store/support.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

TEST_CASE("create_many writes every record with ids and timestamps, in input order") {
  test::clear_table();
  std::vector<datahub::NewConnection> inputs;
  for (int i = 0; i < 2500; ++i) {
    auto c = test::sample("bulk " + std::to_string(i), "pw-" + std::to_string(i));
    c.tags = {"bulk", "b" + std::to_string(i % 7), "{\"x\",NULL}"};
    if (i % 3 == 0) c.description = "d'" + std::to_string(i) + "\\";
    inputs.push_back(c);
  }
  const auto created = test::store().create_many(inputs, "loader");
  REQUIRE(created.size() == inputs.size());
  CHECK(test::row_count() == 2500);
  for (std::size_t i = 0; i < created.size(); i += 97) {
    CAPTURE(i);
    const auto got = test::store().get(created[i].id, datahub::Secrets::reveal);
    CHECK(got.name == inputs[i].name);
    CHECK(got.description == inputs[i].description);
    CHECK(got.tags == inputs[i].tags);
    CHECK(got.created_at == created[i].created_at);
    CHECK(*got.details.find_string("password") == "pw-" + std::to_string(i));
    CHECK(created[i].redacted == std::vector<std::string>{"password"});
  }
  CHECK(created[0].id < created[2499].id);
}

TEST_CASE("create_many keeps COPY's and arrays' metacharacters as they were written") {
  test::clear_table();
  const std::string nasty = "a\tb\nc\rd\\e\\.f\\N \"g\" {h,i} NULL '; DROP TABLE x; --";
  auto c = test::sample("meta " + std::string("\\.\t\\N"), "pw\t\\\n");
  c.description = nasty;
  c.tags = {nasty, "\\", "\\N", "NULL", ",", "{}"};
  c.details.set("application_name", "app\\\tname");
  const auto created = test::store().create_many({c, test::sample("after")}, "actor\twith\\tab");
  REQUIRE(created.size() == 2);
  const auto got = test::store().get(created[0].id, datahub::Secrets::reveal);
  CHECK(got.name == c.name);
  CHECK(got.description == c.description);
  CHECK(got.tags == c.tags);
  CHECK(*got.details.find_string("password") == "pw\t\\\n");
  CHECK(*got.details.find_string("application_name") == "app\\\tname");
  CHECK(got.created_by == "actor\twith\\tab");
  CHECK(got.updated_by == got.created_by);
  CHECK(got.created_at == created[0].created_at);
  CHECK(test::store().get(created[1].id).name == "after");
}

namespace {

// A key provider that fails from its `fail_at`-th wrap on, to break create_many midway.
class FailingProvider final : public datahub::KeyProvider {
 public:
  explicit FailingProvider(int fail_at) : inner_(test::keyring()), fail_at_(fail_at) {}
  std::string primary_key_id() const override { return inner_->primary_key_id(); }
  datahub::Bytes wrap(const std::string& id, const datahub::SecretBytes& dek, const datahub::Bytes& aad) const override {
    if (++wraps_ >= fail_at_) throw datahub::KeyUnavailable("the test's provider is down");
    return inner_->wrap(id, dek, aad);
  }
  datahub::SecretBytes unwrap(const std::string& id, const datahub::Bytes& edk, const datahub::Bytes& aad) const override {
    return inner_->unwrap(id, edk, aad);
  }

 private:
  std::shared_ptr<datahub::StaticKeyring> inner_;
  int fail_at_;
  mutable std::atomic<int> wraps_{0};
};

std::vector<datahub::NewConnection> samples(int n) {
  std::vector<datahub::NewConnection> inputs;
  for (int i = 0; i < n; ++i) inputs.push_back(test::sample("bulk " + std::to_string(i)));
  return inputs;
}

}  // namespace

TEST_CASE("create_many that fails in a later batch writes nothing") {
  test::clear_table();
  SUBCASE("the key provider fails while the helper thread seals the second batch") {
    auto store = test::open_store(std::make_shared<FailingProvider>(1500));
    CHECK_THROWS_AS(store->create_many(samples(2500), "loader"), datahub::KeyUnavailable);
  }
  SUBCASE("the server rejects a row of the second batch") {
    const test::RefuseName refuse("bulk 1500");
    try {
      test::store().create_many(samples(2500), "loader");
      FAIL("the server took every row");
    } catch (const datahub::Database& e) {
      // Named by its index in the input (the server's COPY line), not by its values.
      CHECK_MESSAGE(std::string(e.what()).find(") at connections[1500]") != std::string::npos, e.what());
    }
  }
  CHECK(test::row_count() == 0);
  CHECK(test::store().create_many(samples(3), "loader").size() == 3);  // the pool's session is fine
}

TEST_CASE("create_many with one invalid record writes nothing and names it") {
  test::clear_table();
  std::vector<datahub::NewConnection> inputs(5, test::sample("fine"));
  inputs[3].details.set("port", 0);
  try {
    test::store().create_many(inputs, "loader");
    FAIL("accepted");
  } catch (const datahub::InvalidArgument& e) {
    CHECK(e.field() == "connections[3].connection_details.port");
  }
  CHECK(test::row_count() == 0);
  CHECK(test::store().create_many({}, "loader").empty());
}

TEST_CASE("for_each visits every matching row once, a page at a time, and can stop early") {
  test::clear_table();
  std::vector<datahub::NewConnection> inputs;
  for (int i = 0; i < 1234; ++i) {
    auto c = test::sample("stream " + std::to_string(i));
    c.tags = {i % 2 ? "odd" : "even"};
    inputs.push_back(c);
  }
  test::store().create_many(inputs, "loader");
  datahub::ListQuery q;
  q.tags_all = {"odd"};
  q.limit = 100;
  std::int64_t last = 0;
  int seen = 0;
  test::store().for_each(q, [&](const datahub::Connection& c) {
    CHECK(c.id > last);
    CHECK(c.tags == std::vector<std::string>{"odd"});
    last = c.id;
    ++seen;
    return true;
  });
  CHECK(seen == 617);
  int visited = 0;
  test::store().for_each({}, [&](const datahub::Connection&) { return ++visited < 10; });
  CHECK(visited == 10);
}
