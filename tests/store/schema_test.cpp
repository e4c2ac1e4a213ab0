// The schema: the seed's DDL exactly, versioned idempotent migrations, the rollback plan.
#include "store/support.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <thread>

namespace {

struct Column {
  std::string name, type, nullable, default_value;
  int max_length;
};

std::vector<Column> columns() {
  std::vector<Column> out;
  soci::rowset<soci::row> rows = (test::admin().prepare <<
      "SELECT column_name, data_type, is_nullable, COALESCE(column_default, ''), "
      "COALESCE(character_maximum_length, 0) FROM information_schema.columns "
      "WHERE table_name = 'database_connections' ORDER BY ordinal_position");
  for (const auto& r : rows) {
    out.push_back({r.get<std::string>(0), r.get<std::string>(1), r.get<std::string>(2),
                   r.get<std::string>(3), r.get<int>(4)});
  }
  return out;
}

std::map<std::string, std::string> indexes() {
  std::map<std::string, std::string> out;
  soci::rowset<soci::row> rows = (test::admin().prepare <<
      "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'database_connections'");
  for (const auto& r : rows) out[r.get<std::string>(0)] = r.get<std::string>(1);
  return out;
}

bool table_exists() {
  int n = 0;
  test::admin() << "SELECT count(*) FROM pg_class WHERE relname = 'database_connections'", soci::into(n);
  return n == 1;
}

}  // namespace

TEST_CASE("the table matches the seed's DDL column by column") {
  test::store();
  const std::vector<Column> expected{
      {"id", "integer", "NO", "nextval('database_connections_id_seq'::regclass)", 0},
      {"name", "character varying", "NO", "", 100},
      {"description", "text", "YES", "", 0},
      {"type", "character varying", "NO", "", 20},
      {"connection_details", "jsonb", "NO", "", 0},
      {"tags", "ARRAY", "YES", "", 0},
      {"created_at", "timestamp with time zone", "YES", "CURRENT_TIMESTAMP", 0},
      {"created_by", "character varying", "NO", "", 50},
      {"updated_at", "timestamp with time zone", "YES", "CURRENT_TIMESTAMP", 0},
      {"updated_by", "character varying", "NO", "", 50},
  };
  const auto actual = columns();
  REQUIRE(actual.size() == expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    CAPTURE(expected[i].name);
    CHECK(actual[i].name == expected[i].name);
    CHECK(actual[i].type == expected[i].type);
    CHECK(actual[i].nullable == expected[i].nullable);
    CHECK(actual[i].default_value == expected[i].default_value);
    CHECK(actual[i].max_length == expected[i].max_length);
  }
  std::string element_type;
  test::admin() << "SELECT udt_name FROM information_schema.columns WHERE table_name = "
                   "'database_connections' AND column_name = 'tags'", soci::into(element_type);
  CHECK(element_type == "_text");  // TEXT[]
  std::string primary_key;
  test::admin() << "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
                   "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = 'database_connections'::regclass "
                   "AND i.indisprimary", soci::into(primary_key);
  CHECK(primary_key == "id");
}

TEST_CASE("the seed's indexes exist under their names; tags is GIN") {
  test::store();
  const auto idx = indexes();
  REQUIRE(idx.count("idx_database_connections_name"));
  REQUIRE(idx.count("idx_database_connections_tags"));
  CHECK(idx.at("idx_database_connections_name").find("USING btree (name)") != std::string::npos);
  CHECK(idx.at("idx_database_connections_tags").find("USING gin (tags)") != std::string::npos);
  // No index reads connection_details, and pages are half filled, so that rewriting it is a
  // HOT update (migration 4; keys_test checks that rows stay on their page).
  for (const auto& [name, definition] : idx) {
    CAPTURE(name);
    CHECK(definition.find("connection_details") == std::string::npos);
  }
  std::string options;
  test::admin() << "SELECT array_to_string(reloptions, ',') FROM pg_class WHERE relname = 'database_connections'",
      soci::into(options);
  CHECK(options == "fillfactor=50");
}

TEST_CASE("a server that refuses the login is a Database error; one that cannot be reached is Unavailable") {
  datahub::StoreOptions options;
  options.keys = test::keyring();
  options.pool_size = 1;
  options.connect_timeout = std::chrono::seconds(2);
  options.database = test::database() + " dbname=datahub_no_such_database";  // the last one wins
  try {
    datahub::ConnectionStore refused(options);
    FAIL("the store opened");
  } catch (const datahub::Database& e) {
    CHECK(e.sqlstate() == "3D000");
    CHECK(std::string(e.what()).find("refused the connection") != std::string::npos);
  }
  // A role that needs a password, and none given: libpq stops before the server can refuse.
  options.database = test::database() + " user=datahub_no_such_role password=''";
  try {
    datahub::ConnectionStore refused(options);
    FAIL("the store opened");
  } catch (const datahub::Database& e) {
    CHECK(e.sqlstate() == "28P01");
    CHECK_MESSAGE(std::string(e.what()).find("asks for a password") != std::string::npos, e.what());
  }
  // A startup option the server rejects is a mistake in the configuration, not an outage.
  for (const auto& [option, sqlstate] : std::vector<std::pair<std::string, std::string>>{
           {"statement_timeout=soon", "22023"}, {"no_such_setting=1", "42704"}}) {
    CAPTURE(option);
    options.database = test::database() + " password=secret-pw options='-c " + option + "'";
    try {
      datahub::ConnectionStore refused(options);
      FAIL("the store opened");
    } catch (const datahub::Database& e) {
      CHECK(e.sqlstate() == sqlstate);
      CHECK_MESSAGE(std::string(e.what()).find("refused the connection") != std::string::npos, e.what());
      CHECK(std::string(e.what()).find("secret-pw") == std::string::npos);
    }
  }
  options.database = "host=/nonexistent-dir port=1 dbname=x";
  try {
    datahub::ConnectionStore unreachable(options);
    FAIL("the store opened");
  } catch (const datahub::Unavailable& e) {
    // libpq's reason, not only SOCI's "Cannot establish connection to the database."
    CHECK_MESSAGE(std::string(e.what()).find("No such file or directory") != std::string::npos, e.what());
  }
}

TEST_CASE("migrations are versioned, recorded and idempotent") {
  auto& store = test::store();
  store.migrate();
  store.migrate();
  const auto status = store.schema_status();
  CHECK(status.current_version == status.latest_version);
  int recorded = 0;
  test::admin() << "SELECT count(*) FROM datahub_schema_migrations", soci::into(recorded);
  CHECK(recorded == status.latest_version);
}

TEST_CASE("rollback drops the indexes and keeps the data; drop_table is separate") {
  auto& store = test::store();
  test::clear_table();
  store.create(test::sample("kept through rollback"), "tester");
  store.rollback_indexes();
  CHECK(indexes().size() == 1);  // only the primary key's
  CHECK(table_exists());
  CHECK(test::row_count() == 1);
  CHECK(store.schema_status().current_version == 1);
  std::string options = "unset";
  soci::indicator null_options = soci::i_ok;
  test::admin() << "SELECT reloptions FROM pg_class WHERE relname = 'database_connections'",
      soci::into(options, null_options);
  CHECK(null_options == soci::i_null);  // fillfactor back to the default

  store.migrate();
  CHECK(indexes().size() == 3);
  CHECK(test::row_count() == 1);

  store.drop_table();
  CHECK_FALSE(table_exists());
  CHECK(store.schema_status().current_version == 0);
  store.migrate();
  CHECK(table_exists());
  CHECK(test::row_count() == 0);
}

TEST_CASE("each migration applied or reverted is logged, and nothing when there is none") {
  const auto ends_with = [](const std::string& text, const std::string& end) {
    return text.size() >= end.size() && text.compare(text.size() - end.size(), end.size(), end) == 0;
  };
  std::vector<std::string> logged;
  datahub::StoreOptions options;
  options.database = test::database();
  options.keys = test::keyring();
  options.pool_size = 1;
  options.log = [&](datahub::LogLevel level, const std::string& message) {
    if (message.rfind("schema: ", 0) == 0) logged.push_back(message + (level == datahub::LogLevel::info ? "" : " [not info]"));
  };
  datahub::ConnectionStore store(options);
  store.migrate();
  const int latest = store.schema_status().latest_version;
  logged.clear();

  store.migrate();
  CHECK(logged.empty());
  store.rollback_indexes();
  REQUIRE(logged.size() == static_cast<std::size_t>(latest - 1));
  for (int v = latest; v >= 2; --v) {
    const std::string& m = logged[static_cast<std::size_t>(latest - v)];
    CHECK(m.rfind("schema: migration " + std::to_string(v) + " (", 0) == 0);
    CHECK(ends_with(m, ") reverted"));
  }
  logged.clear();
  store.migrate();
  REQUIRE(logged.size() == static_cast<std::size_t>(latest - 1));
  for (int v = 2; v <= latest; ++v) {
    const std::string& m = logged[static_cast<std::size_t>(v - 2)];
    CHECK(m.rfind("schema: migration " + std::to_string(v) + " (", 0) == 0);
    CHECK(ends_with(m, ") applied"));
  }
}

TEST_CASE("two stores migrating at once both succeed") {
  test::store().drop_table();
  auto a = test::open_store(test::keyring());
  auto b = test::open_store(test::keyring());
  std::exception_ptr failure_a, failure_b;
  std::thread ta([&] { try { a->migrate(); } catch (...) { failure_a = std::current_exception(); } });
  std::thread tb([&] { try { b->migrate(); } catch (...) { failure_b = std::current_exception(); } });
  ta.join();
  tb.join();
  CHECK_FALSE(failure_a);
  CHECK_FALSE(failure_b);
  CHECK(table_exists());
  int recorded = 0;
  test::admin() << "SELECT count(*) FROM datahub_schema_migrations", soci::into(recorded);
  CHECK(recorded == a->schema_status().latest_version);
}
