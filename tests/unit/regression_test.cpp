// Regressions: Details::from_json accepting valid JSON, and keyring strings whose errors
// must name their source and never echo key material.
#include "crypto/base64.hpp"
#include "unit_support.hpp"

#include <datahub/details.hpp>
#include <datahub/error.hpp>
#include <datahub/key_provider.hpp>

#include <botan/system_rng.h>
#include <doctest/doctest.h>

#include <string>
#include <vector>

using datahub::Details;
using datahub::InvalidArgument;
using datahub::SecretBytes;
using datahub::StaticKeyring;
using unit::b64;
using unit::invalid_argument_of;
using unit::random_key;

TEST_CASE("Details::from_json accepts a valid flat object, keeps order, names bad keys") {
  const Details d = Details::from_json(" {\"z\":\"db\", \"port\":5432,\"a\":-7}\n");
  REQUIRE(d.size() == 3);
  CHECK(*d.find_string("z") == "db");
  CHECK(*d.find_integer("port") == 5432);
  CHECK(d.fields()[2].first == "a");
  CHECK(Details::from_json("{}").empty());
  CHECK(invalid_argument_of([] { Details::from_json(R"({"port":5432.0})"); }).field() ==
        "connection_details.port");
  CHECK(invalid_argument_of([] { Details::from_json(R"({"h":"a","h":"b"})"); }).field() ==
        "connection_details.h");
  CHECK(invalid_argument_of([] { Details::from_json(R"({"p":"a\u0000b"})"); }).field() ==
        "connection_details.p");
  CHECK(invalid_argument_of([] { Details::from_json(R"({"a":1} x)"); }).field() ==
        "connection_details");
}

TEST_CASE("from_string names its source for every malformed entry") {
  const std::string good = b64(random_key());
  for (const std::string& text : std::vector<std::string>{
           "", good, ":" + good, "k1:" + good.substr(1), "k1:" + good + ",",   // parse errors
           "k1:" + b64(random_key(31)), "k1:" + good + ",k1:" + good, "k 1:" + good}) {
    CAPTURE(text);
    CHECK(invalid_argument_of([&] { StaticKeyring::from_string(text, "my-source"); }).field() ==
          "my-source");
  }
}

TEST_CASE("a stray ':' after the key does not echo it") {
  // 33 bytes of 'A' encode to letters only, a valid key id if mistaken for one.
  const std::string letters = b64(SecretBytes(33, 'A'));
  const std::string padded = b64(random_key());
  for (const std::string& text : std::vector<std::string>{
           "k1:" + letters + ":", "k1:" + padded + ":x", "k1:" + padded + ":"}) {
    CAPTURE(text);
    const std::string what = invalid_argument_of([&] { StaticKeyring::from_string(text); }).what();
    CAPTURE(what);
    CHECK(what.find(text.substr(3, 44)) == std::string::npos);
  }
}

TEST_CASE("from_environment names the variable for a short key") {
  ::setenv("DATAHUB_UNIT_TEST_BUG_KEYS", ("k1:" + b64(random_key(20))).c_str(), 1);
  CHECK(invalid_argument_of([] { StaticKeyring::from_environment("DATAHUB_UNIT_TEST_BUG_KEYS"); })
            .field() == "DATAHUB_UNIT_TEST_BUG_KEYS");
  ::unsetenv("DATAHUB_UNIT_TEST_BUG_KEYS");
}
