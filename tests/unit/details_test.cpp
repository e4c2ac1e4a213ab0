// Details (flat JSON of strings and integers) and the POSTGRESQL connection type.
#include "model/details_json.hpp"
#include "unit_support.hpp"

#include <datahub/connection_type.hpp>
#include <datahub/details.hpp>
#include <datahub/error.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

using datahub::Details;
using datahub::InvalidArgument;
using datahub::SecretBytes;
using namespace std::string_literals;
using unit::field_of;
using unit::message_of;

namespace {
std::vector<std::string> names(const Details& d) {
  std::vector<std::string> out;
  for (const auto& field : d) out.push_back(field.first);
  return out;
}

Details from_value(const std::string& json) {
  rapidjson::Document doc;
  doc.Parse(json.c_str());
  REQUIRE_FALSE(doc.HasParseError());
  return datahub::model::details_from_json_value(doc, "connection_details");
}

const datahub::ConnectionType& pg() { return datahub::connection_type("POSTGRESQL"); }

Details valid_pg() {
  Details d;
  d.set("host", "db.internal").set("database", "sales").set("username", "app");
  return d;
}

}  // namespace

TEST_CASE("details_from_json_value reads a flat object of strings and integers") {
  const Details d = from_value(R"({"host":"db.example","port":5432,"password":"p\u00e9","neg":-7})");
  REQUIRE(d.size() == 4);
  REQUIRE(d.find_string("host"));
  CHECK(*d.find_string("host") == "db.example");
  REQUIRE(d.find_integer("port"));
  CHECK(*d.find_integer("port") == 5432);
  CHECK(*d.find_string("password") == "p\xC3\xA9");
  CHECK(*d.find_integer("neg") == -7);
  CHECK(d.find_integer("host") == nullptr);  // wrong type
  CHECK(d.find_string("port") == nullptr);
  CHECK(d.find("absent") == nullptr);
  CHECK(names(from_value(R"({"z":1,"a":"x","m":2})")) == std::vector<std::string>{"z", "a", "m"});
  CHECK(from_value("{}").empty());
}

TEST_CASE("details_from_json_value names the offending key") {
  CHECK(field_of([] { from_value("[]"); }) == "connection_details");
  CHECK(field_of([] { from_value("42"); }) == "connection_details");
  CHECK(field_of([] { from_value(R"({"host":"h","port":5432.0})"); }) == "connection_details.port");
  CHECK(field_of([] { from_value(R"({"port":5e3})"); }) == "connection_details.port");
  CHECK(field_of([] { from_value(R"({"ssl":true})"); }) == "connection_details.ssl");
  CHECK(field_of([] { from_value(R"({"password":null})"); }) == "connection_details.password");
  CHECK(field_of([] { from_value(R"({"o":{"x":1}})"); }) == "connection_details.o");
  CHECK(field_of([] { from_value(R"({"a":[1]})"); }) == "connection_details.a");
  CHECK(field_of([] { from_value(R"({"big":18446744073709551615})"); }) ==
        "connection_details.big");  // above int64
  CHECK(field_of([] { from_value(R"({"host":"a","port":1,"host":"b"})"); }) ==
        "connection_details.host");  // duplicate
  CHECK(field_of([] { from_value(R"({"password":"ab\u0000cd"})"); }) ==
        "connection_details.password");
  CHECK(field_of([] { from_value("{\"host\":\"a\xC0\xAF\"}"); }) == "connection_details.host");
  CHECK_THROWS_AS(from_value(R"({"a\u0000b":"x"})"), InvalidArgument);
  CHECK_THROWS_AS(from_value(R"({"":"x"})"), InvalidArgument);
}

TEST_CASE("Details::from_json rejects malformed input as connection_details") {
  // Each of these is invalid whatever the values: malformed, trailing text, not an object,
  // bad encoding. (Positive parsing is covered by details_from_json_value above.)
  for (const std::string& bad : std::vector<std::string>{
           "", "{", R"({"a":1,})", R"({"a" 1})", "{'a':1}", "nope", R"({"a":01})",
           R"({"a":1} x)", R"({"a":1}{"b":2})", "{\"a\":1}\0junk"s, "[]", R"(["a"])", "42",
           R"("text")", "null", "true", "{\"host\":\"a\xC0\xAF\"}", "{\"host\":\"\xED\xA0\x80\"}",
           "{\"h\xFF\":\"x\"}", R"({"host":"\ud800"})"}) {
    CAPTURE(bad);
    CHECK(field_of([&] { Details::from_json(bad); }) == "connection_details");
  }
}

TEST_CASE("Details secret JSON round-trips in order") {
  Details d;
  d.set("zeta", "z\"q\\").set("port", 5432).set("alpha", "\xF0\x9F\x98\x80").set("neg", -1);
  SecretBytes json = datahub::model::details_to_secret_json(d);
  CHECK(std::string(json.begin(), json.end()) ==
        "{\"zeta\":\"z\\\"q\\\\\",\"port\":5432,\"alpha\":\"\xF0\x9F\x98\x80\",\"neg\":-1}");
  const Details back = datahub::model::details_from_secret_json(json);
  CHECK(back == d);
  CHECK(names(back) == std::vector<std::string>{"zeta", "port", "alpha", "neg"});
}

TEST_CASE("details_from_secret_json reports bad payloads as Integrity") {
  for (const std::string& bad : std::vector<std::string>{
           "", "{", "[]", R"({"a":1.5})", R"({"a":{}})", R"({"a":1,"a":2})", "{\"a\":\"\xC0\xAF\"}"}) {
    CAPTURE(bad);
    SecretBytes json(bad.begin(), bad.end());
    CHECK_THROWS_AS(datahub::model::details_from_secret_json(json), datahub::Integrity);
  }
}

TEST_CASE("Details copies survive the original being wiped") {
  const std::string secret = "Pa55-" + std::string(40, 'x');  // heap-allocated, not SSO
  auto original = std::make_unique<Details>();
  original->set("password", secret).set("port", 5432);
  const Details copy = *original;
  Details assigned;
  assigned.set("other", "value-that-will-be-wiped-on-assignment");
  assigned = *original;
  original.reset();  // destructor wipes the original's strings
  REQUIRE(copy.find_string("password"));
  CHECK(*copy.find_string("password") == secret);
  CHECK(*assigned.find_string("password") == secret);
  CHECK(*copy.find_integer("port") == 5432);
  CHECK(assigned.find("other") == nullptr);
  CHECK(copy == assigned);

  Details moved = std::move(assigned);
  CHECK(*moved.find_string("password") == secret);
  Details target;
  target.set("x", 1);
  target = std::move(moved);
  CHECK(*target.find_string("password") == secret);
  CHECK(target.size() == 2);
}

TEST_CASE("Details::set replaces in place, erase removes") {
  Details d;
  d.set("a", 1).set("b", "two").set("c", 3);
  d.set("b", 22);  // type change, same position
  d.set("a", "one");
  CHECK(names(d) == std::vector<std::string>{"a", "b", "c"});
  CHECK(*d.find_string("a") == "one");
  CHECK(*d.find_integer("b") == 22);
  CHECK(d.size() == 3);
  CHECK(d.erase("b"));
  CHECK_FALSE(d.erase("b"));
  CHECK(names(d) == std::vector<std::string>{"a", "c"});
  Details other;
  other.set("a", "one").set("c", 3);
  CHECK(d == other);
  other.set("c", 4);
  CHECK(d != other);
}

TEST_CASE("Details::set takes any integer type; one above int64's range is refused") {
  Details d;
  d.set("long long", 5432LL).set("unsigned", 5433u).set("size_t", std::size_t{5434}).set("short", short{-1});
  CHECK(*d.find_integer("long long") == 5432);
  CHECK(*d.find_integer("unsigned") == 5433);
  CHECK(*d.find_integer("size_t") == 5434);
  CHECK(*d.find_integer("short") == -1);
  d.set("max", std::uint64_t{9223372036854775807ULL});
  CHECK(*d.find_integer("max") == 9223372036854775807LL);
  try {
    d.set("port", std::uint64_t{9223372036854775808ULL});
    FAIL("an integer above int64's range was set");
  } catch (const datahub::InvalidArgument& e) {
    CHECK(e.field() == "connection_details.port");
  }
  CHECK_FALSE(d.find("port"));
}

TEST_CASE("connection_type registry") {
  CHECK(pg().name == "POSTGRESQL");
  const auto all = datahub::connection_type_names();
  CHECK(std::find(all.begin(), all.end(), "POSTGRESQL") != all.end());
  CHECK(field_of([] { datahub::connection_type("MYSQL"); }) == "type");
  CHECK(field_of([] { datahub::connection_type("postgresql"); }) == "type");
  REQUIRE(pg().field("password"));
  CHECK(pg().field("password")->secret);
  CHECK_FALSE(pg().field("host")->secret);
  CHECK(pg().field("nope") == nullptr);
}

TEST_CASE("POSTGRESQL validate normalizes") {
  Details in;
  in.set("username", "app").set("sslmode", "verify-full").set("host", "h").set("database", "d");
  const Details out = pg().validate(in);
  REQUIRE(out.find_integer("port"));
  CHECK(*out.find_integer("port") == 5432);  // default filled
  CHECK(names(out) == std::vector<std::string>{"host", "port", "database", "username", "sslmode"});
  CHECK(*out.find_string("sslmode") == "verify-full");

  Details explicit_port = valid_pg();
  explicit_port.set("port", 6543).set("connect_timeout", 10).set("application_name", "svc");
  const Details out2 = pg().validate(explicit_port);
  CHECK(*out2.find_integer("port") == 6543);
  CHECK(*out2.find_integer("connect_timeout") == 10);
  for (const char* mode : {"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}) {
    Details d = valid_pg();
    d.set("sslmode", mode);
    CHECK_NOTHROW(pg().validate(d));
  }
}

TEST_CASE("POSTGRESQL validate rejects bad details, naming the field") {
  const auto rejects = [](Details d) { return field_of([&] { pg().validate(d); }); };
  SUBCASE("port range and type") {
    CHECK(rejects(valid_pg().set("port", 0)) == "connection_details.port");
    CHECK(rejects(valid_pg().set("port", 70000)) == "connection_details.port");
    CHECK(rejects(valid_pg().set("port", -1)) == "connection_details.port");
    CHECK(rejects(valid_pg().set("port", "5432")) == "connection_details.port");
    CHECK_NOTHROW(pg().validate(valid_pg().set("port", 1)));
    CHECK_NOTHROW(pg().validate(valid_pg().set("port", 65535)));
  }
  SUBCASE("required fields") {
    for (const char* name : {"host", "database", "username"}) {
      Details d = valid_pg();
      d.erase(name);
      CHECK(rejects(d) == "connection_details."s + name);
      Details empty = valid_pg();
      empty.set(name, "");
      CHECK(rejects(empty) == "connection_details."s + name);
    }
    CHECK(rejects(valid_pg().set("host", 5)) == "connection_details.host");
  }
  SUBCASE("unknown key") {
    CHECK(rejects(valid_pg().set("hostname", "x")) == "connection_details.hostname");
    // Named fit for a message: a megabyte key is not echoed whole, a newline not raw.
    CHECK(rejects(valid_pg().set(std::string(1 << 20, 'k'), "x")) == "connection_details." + std::string(64, 'k') + "...");
    CHECK(rejects(valid_pg().set("two\nlines", "x")) == "connection_details.two\\u000alines");
  }
  SUBCASE("sslmode outside libpq's set") {
    CHECK(rejects(valid_pg().set("sslmode", "VERIFY-FULL")) == "connection_details.sslmode");
    CHECK(rejects(valid_pg().set("sslmode", "on")) == "connection_details.sslmode");
    CHECK(rejects(valid_pg().set("sslmode", "")) == "connection_details.sslmode");
  }
  SUBCASE("connect_timeout range") {
    CHECK(rejects(valid_pg().set("connect_timeout", 0)) == "connection_details.connect_timeout");
    CHECK(rejects(valid_pg().set("connect_timeout", 3601)) == "connection_details.connect_timeout");
  }
  SUBCASE("string limits and encoding") {
    CHECK(rejects(valid_pg().set("database", std::string(64, 'd'))) == "connection_details.database");
    CHECK_NOTHROW(pg().validate(valid_pg().set("database", std::string(63, 'd'))));
    CHECK(rejects(valid_pg().set("host", "h\xC0\xAF")) == "connection_details.host");
    CHECK(rejects(valid_pg().set("password", std::string(1025, 'p'))) ==
          "connection_details.password");
  }
}

TEST_CASE("POSTGRESQL secrets_present lists the password only when set") {
  CHECK(pg().secrets_present(valid_pg()).empty());
  CHECK(pg().secrets_present(valid_pg().set("password", "s3cret")) ==
        std::vector<std::string>{"password"});
  CHECK(pg().secrets_present(pg().validate(valid_pg().set("password", "s3cret"))) ==
        std::vector<std::string>{"password"});
}

TEST_CASE("validation errors never contain the password") {
  const std::string marker = "Pa55-UNIQUE-MARKER";
  std::vector<Details> bad;
  bad.push_back(valid_pg().set("password", marker).set("extra", marker));
  bad.push_back(valid_pg().set("password", marker + std::string(1100, 'x')));
  bad.push_back(valid_pg().set("password", marker + "\xC0\xAF"));
  bad.push_back(valid_pg().set("password", marker).set("port", marker));
  bad.push_back(valid_pg().set("password", marker).set("sslmode", marker));
  Details missing = valid_pg().set("password", marker);
  missing.erase("host");
  bad.push_back(missing);
  for (const auto& d : bad) {
    const std::string what = message_of([&] { pg().validate(d); });
    CAPTURE(what);
    CHECK_FALSE(what.empty());
    CHECK(what.find(marker) == std::string::npos);
  }
  // The parser's errors do not echo values either.
  for (const std::string& json :
       {R"({"password":")" + marker + R"(","password":")" + marker + R"("})",
        R"({"password":")" + marker + R"(\u0000"})", R"({"password":")" + marker + R"("} x)"}) {
    const std::string what = message_of([&] { Details::from_json(json); });
    CAPTURE(what);
    CHECK_FALSE(what.empty());
    CHECK(what.find(marker) == std::string::npos);
  }
}
