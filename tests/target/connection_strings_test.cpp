// to_conninfo and to_uri: what libpq parses back must be exactly what was stored.
#include "support.hpp"

#include <datahub/target.hpp>

#include <doctest/doctest.h>

#include <map>
#include <vector>

namespace {

// Every keyword libpq parsed from `text` that has a value.
std::map<std::string, std::string> parse(const std::string& text) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(text.c_str(), &error);
  if (!options) {
    std::string message = error ? error : "?";
    PQfreemem(error);
    FAIL("PQconninfoParse refused it: " << message);
  }
  std::map<std::string, std::string> values;
  for (PQconninfoOption* o = options; o->keyword; ++o) {
    if (o->val) values[o->keyword] = o->val;
  }
  PQconninfoFree(options);
  return values;
}

bool connects(const std::string& text) {
  PGconn* conn = PQconnectdb(text.c_str());
  const bool ok = PQstatus(conn) == CONNECTION_OK;
  if (!ok) MESSAGE("libpq: " << std::string(PQerrorMessage(conn)));
  PQfinish(conn);
  return ok;
}

datahub::Details hostile_everywhere() {
  datahub::Details d;
  d.set("host", "db.example.com").set("port", 6432).set("database", R"(my db'"\@:/x)")
      .set("username", R"(us er@'"\:/)").set("password", test::kHostilePassword)
      .set("sslmode", "require").set("connect_timeout", 7).set("application_name", "a & b = c?");
  return d;
}

}  // namespace

TEST_CASE("to_conninfo quotes every value so libpq reads back exactly what was stored") {
  const auto values = parse(datahub::to_conninfo(hostile_everywhere()));
  CHECK(values.at("host") == "db.example.com");
  CHECK(values.at("port") == "6432");
  CHECK(values.at("dbname") == R"(my db'"\@:/x)");
  CHECK(values.at("user") == R"(us er@'"\:/)");
  CHECK(values.at("password") == test::kHostilePassword);
  CHECK(values.at("sslmode") == "require");
  CHECK(values.at("connect_timeout") == "7");
  CHECK(values.at("application_name") == "a & b = c?");
}

TEST_CASE("to_uri percent-encodes so libpq reads back exactly what was stored") {
  const std::string uri = datahub::to_uri(hostile_everywhere());
  CHECK(uri.rfind("postgresql://", 0) == 0);
  CHECK(uri.find(test::kHostilePassword) == std::string::npos);  // encoded, not verbatim
  const auto values = parse(uri);
  CHECK(values.at("host") == "db.example.com");
  CHECK(values.at("port") == "6432");
  CHECK(values.at("dbname") == R"(my db'"\@:/x)");
  CHECK(values.at("user") == R"(us er@'"\:/)");
  CHECK(values.at("password") == test::kHostilePassword);
  CHECK(values.at("sslmode") == "require");
  CHECK(values.at("connect_timeout") == "7");
  CHECK(values.at("application_name") == "a & b = c?");
}

TEST_CASE("to_uri: socket directories and host lists go into the query, IPv6 into brackets") {
  datahub::Details d;
  d.set("host", "/run/postgre sql").set("port", 5433).set("database", "main").set("username", "app");
  auto values = parse(datahub::to_uri(d));
  CHECK(values.at("host") == "/run/postgre sql");
  CHECK(values.at("port") == "5433");
  CHECK(values.at("dbname") == "main");

  d.set("host", "db1.example.com,db2.example.com");
  values = parse(datahub::to_uri(d));
  CHECK(values.at("host") == "db1.example.com,db2.example.com");

  d.set("host", "::1");
  const std::string uri = datahub::to_uri(d);
  CHECK(uri.find("@[::1]:5433/") != std::string::npos);
  CHECK(parse(uri).at("host") == "::1");
}

// What libpq must read back from `details`: every field under its keyword, nothing else.
std::map<std::string, std::string> expected_keywords(const datahub::Details& details) {
  std::map<std::string, std::string> out;
  for (const auto& [field, value] : details) {
    const std::string keyword = field == "database" ? "dbname" : field == "username" ? "user" : field;
    const auto* text = std::get_if<std::string>(&value);
    out[keyword] = text ? *text : std::to_string(std::get<std::int64_t>(value));
  }
  return out;
}

TEST_CASE("no value in any field can add or change another keyword, in the conninfo or the URI") {
  // Bare Details are not validated by a store: a string port, empty names, any byte.
  const std::vector<std::string> hostile = {
      "1/x?host=evil&sslmode=disable", "x' sslmode='disable", "x sslmode=disable", "a=b", "&sslmode=disable",
      "?#/@:%25%00", "line\nbreak\n", std::string("new\nline\r\t"), "\xff\xfe\x80 not utf-8",
      "[::1]", "::1", "h1,h2", "/run/post gres", "", " ", "''", "\\", "postgresql://evil/db",
      std::string(1100, '%')};
  for (const char* field : {"host", "port", "database", "username", "password", "application_name", "sslmode"}) {
    for (const auto& value : hostile) {
      datahub::Details d;
      d.set("host", "db.example.com").set("port", 5432).set("database", "main").set("username", "app")
          .set("password", "pw");
      d.set(field, value);
      const std::string name = field;
      CAPTURE(name);
      CAPTURE(value);
      CHECK(parse(datahub::to_conninfo(d)) == expected_keywords(d));
      CHECK(parse(datahub::to_uri(d)) == expected_keywords(d));
    }
  }
}

TEST_CASE("a redacted record gives strings without a password") {
  datahub::Details d = hostile_everywhere();
  d.erase("password");
  CHECK(parse(datahub::to_conninfo(d)).count("password") == 0);
  CHECK(parse(datahub::to_uri(d)).count("password") == 0);
}

TEST_CASE("only POSTGRESQL records and known fields are accepted") {
  datahub::Connection c;
  c.type = "MYSQL";
  c.details = hostile_everywhere();
  CHECK_THROWS_AS(datahub::to_conninfo(c), datahub::InvalidArgument);
  CHECK_THROWS_AS(datahub::to_uri(c), datahub::InvalidArgument);
  datahub::Details odd;
  odd.set("host", "h").set("options", "-c x=y");
  CHECK_THROWS_AS(datahub::to_conninfo(odd), datahub::InvalidArgument);
}

TEST_CASE("the conninfo and the URI of a hostile password really connect") {
  test::LoginRole role;
  CHECK(connects(datahub::to_conninfo(test::role_details())));
  CHECK(connects(datahub::to_uri(test::role_details())));
  CHECK_FALSE(connects(datahub::to_conninfo(test::role_details("not the password"))));
}
