// StaticKeyring: construction rules, the "kid:base64,..." format, wrap/unwrap (also from
// many threads at once).
#include "crypto/base64.hpp"
#include "unit_support.hpp"

#include <datahub/error.hpp>
#include <datahub/key_provider.hpp>

#include <botan/system_rng.h>
#include <doctest/doctest.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

using datahub::Bytes;
using datahub::Integrity;
using datahub::InvalidArgument;
using datahub::KeyUnavailable;
using datahub::SecretBytes;
using datahub::StaticKeyring;
using unit::b64;
using unit::invalid_argument_of;
using unit::random_key;

namespace {
std::vector<StaticKeyring::Key> one_key(const std::string& id, SecretBytes material) {
  std::vector<StaticKeyring::Key> keys;
  keys.emplace_back(id, std::move(material));
  return keys;
}

const Bytes kAad{'r', 'o', 'w', 1};

}  // namespace

TEST_CASE("StaticKeyring construction rules") {
  SUBCASE("valid") {
    std::vector<StaticKeyring::Key> keys;
    keys.emplace_back("a", random_key(32));
    keys.emplace_back("b", random_key(64));
    const StaticKeyring ring("b", std::move(keys));
    CHECK(ring.primary_key_id() == "b");
    CHECK(ring.key_ids() == std::vector<std::string>{"a", "b"});
  }
  SUBCASE("no keys") {
    CHECK(invalid_argument_of([] { StaticKeyring("k", {}); }).field() == "keys");
  }
  SUBCASE("key shorter than 32 bytes") {
    for (std::size_t n : {0, 1, 16, 31}) {
      CAPTURE(n);
      CHECK(invalid_argument_of([&] { StaticKeyring("k", one_key("k", random_key(n))); }).field() ==
            "keys");
    }
  }
  SUBCASE("duplicate id") {
    std::vector<StaticKeyring::Key> keys;
    keys.emplace_back("k", random_key());
    keys.emplace_back("k", random_key());
    CHECK(invalid_argument_of([&] { StaticKeyring("k", std::move(keys)); }).field() == "keys");
  }
  SUBCASE("primary not among the keys") {
    CHECK(invalid_argument_of([] { StaticKeyring("other", one_key("k", random_key())); }).field() ==
          "keys");
    CHECK(invalid_argument_of([] { StaticKeyring("", one_key("k", random_key())); }).field() ==
          "keys");
  }
  SUBCASE("malformed key id") {
    for (const std::string& id :
         std::vector<std::string>{"", "with space", "semi;colon", std::string(129, 'k')}) {
      CAPTURE(id);
      CHECK(invalid_argument_of([&] { StaticKeyring(id, one_key(id, random_key())); }).field() ==
            "keys");
    }
  }
}

TEST_CASE("StaticKeyring error messages never contain key material") {
  const SecretBytes short_key = random_key(16);
  const std::string text = b64(short_key);
  const std::string what =
      invalid_argument_of([&] { StaticKeyring("k", one_key("k", SecretBytes(short_key))); }).what();
  CHECK(what.find(text) == std::string::npos);
}

// Swapped ids and keys put key material where an id belongs; unpadded base64 of 33 bytes
// with no '+' even passes the key-id alphabet. Messages name entries by position.
TEST_CASE("StaticKeyring error messages never echo a key id") {
  const std::string material_as_id = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYx";  // 33 bytes
  const std::string padded_as_id = b64(random_key());
  auto message = [](auto&& make) {
    const InvalidArgument e = invalid_argument_of(make);
    CHECK(e.field() == "keys");
    return std::string(e.what());
  };
  SUBCASE("an id that fails the key-id rule") {
    const std::string what = message([&] { StaticKeyring("k", one_key(padded_as_id + "!", random_key())); });
    CHECK(what.find(padded_as_id) == std::string::npos);
    CHECK(what.find("entry 1") != std::string::npos);
  }
  SUBCASE("a short key under an id that looks like base64") {
    const std::string what = message([&] { StaticKeyring(material_as_id, one_key(material_as_id, random_key(4))); });
    CHECK(what.find(material_as_id) == std::string::npos);
    CHECK(what.find("entry 1") != std::string::npos);
  }
  SUBCASE("a duplicate id") {
    std::vector<StaticKeyring::Key> keys;
    keys.emplace_back("k", random_key());
    keys.emplace_back(material_as_id, random_key());
    keys.emplace_back(material_as_id, random_key());
    const std::string what = message([&] { StaticKeyring("k", std::move(keys)); });
    CHECK(what.find(material_as_id) == std::string::npos);
    CHECK(what.find("entry 3") != std::string::npos);
  }
  SUBCASE("a primary that is not among the keys") {
    CHECK(message([&] { StaticKeyring(material_as_id, one_key("k", random_key())); }).find(material_as_id) ==
          std::string::npos);
  }
  SUBCASE("a primary that fails the key-id rule") {
    CHECK(message([&] { StaticKeyring(padded_as_id, one_key("k", random_key())); }).find(padded_as_id) ==
          std::string::npos);
    (void)message([&] { StaticKeyring(std::string("k\0", 2), one_key("k", random_key())); });  // not cut at the NUL
  }
}

TEST_CASE("StaticKeyring::from_string") {
  SUBCASE("key ids may contain ':'") {
    const auto ring = StaticKeyring::from_string("local:2026-11:3f9a1c2e:" + b64(random_key()));
    CHECK(ring->primary_key_id() == "local:2026-11:3f9a1c2e");
    CHECK(ring->key_ids() == std::vector<std::string>{"local:2026-11:3f9a1c2e"});
  }
  SUBCASE("the first entry is the primary") {
    const auto ring = StaticKeyring::from_string("zeta:" + b64(random_key()) + ",alpha:" +
                                                 b64(random_key(48)));
    CHECK(ring->primary_key_id() == "zeta");
    CHECK(ring->key_ids() == std::vector<std::string>{"alpha", "zeta"});
  }
  SUBCASE("same text, same keys: interoperable") {
    const std::string text = "k1:" + b64(random_key()) + ",k2:" + b64(random_key());
    const auto a = StaticKeyring::from_string(text);
    const auto b = StaticKeyring::from_string(text);
    const SecretBytes dek = random_key();
    CHECK(b->unwrap("k2", a->wrap("k2", dek, kAad), kAad) == dek);
    CHECK(b->unwrap("k1", a->wrap("k1", dek, kAad), kAad) == dek);
  }
}

TEST_CASE("StaticKeyring::from_string rejects malformed entries without echoing keys") {
  const std::string good = b64(random_key());
  const std::string good2 = b64(random_key());
  const std::string shortk = b64(random_key(31));
  const std::vector<std::pair<std::string, std::string>> cases{
      // (text, base64 that must not appear in the message)
      {"", ""},
      {good, good},                                 // no key id
      {":" + good, good},                           // empty key id
      {"k1:" + shortk, shortk},                     // too short
      {"k1:" + good.substr(1), good.substr(1)},     // not a multiple of 4
      {"k1:" + good + " ", good},                   // trailing space
      {"k1:" + good + "\n", good},                  // trailing newline
      {"k1: " + good, good},                        // space before the key
      {"k1:" + good + ",", good},                   // trailing comma
      {"k1:" + good + ",,k2:" + good2, good2},      // empty entry
      {"k1:" + good + ", k2:" + good2, good2},      // space after the comma
      {"k1:" + good + ",k1:" + good2, good2},       // duplicate id
      {"k1:" + good.substr(0, 40) + "*" + good.substr(41), good.substr(0, 40)},  // bad character
      {"k 1:" + good, good},                        // bad id
  };
  for (const auto& [text, secret] : cases) {
    CAPTURE(text);
    const InvalidArgument e = invalid_argument_of([&] { StaticKeyring::from_string(text, "my-source"); });
    if (!secret.empty()) {
      CHECK(std::string(e.what()).find(secret) == std::string::npos);
    }
  }
  CHECK(invalid_argument_of([] { StaticKeyring::from_string("nope"); }).field() == "keys");
}

TEST_CASE("StaticKeyring::from_environment") {
  const char* variable = "DATAHUB_UNIT_TEST_KEYS_4f2a";
  ::unsetenv(variable);
  SUBCASE("unset") {
    CHECK(invalid_argument_of([&] { StaticKeyring::from_environment(variable); }).field() == variable);
  }
  SUBCASE("empty") {
    ::setenv(variable, "", 1);
    CHECK(invalid_argument_of([&] { StaticKeyring::from_environment(variable); }).field() == variable);
  }
  SUBCASE("malformed, not echoed") {
    const std::string key = b64(random_key());
    ::setenv(variable, ("k1:" + key + "\n").c_str(), 1);
    const InvalidArgument e = invalid_argument_of([&] { StaticKeyring::from_environment(variable); });
    CHECK(e.field() == variable);
    CHECK(std::string(e.what()).find(key) == std::string::npos);
  }
  SUBCASE("valid") {
    ::setenv(variable, ("env:1:" + b64(random_key()) + ",env:0:" + b64(random_key())).c_str(), 1);
    const auto ring = StaticKeyring::from_environment(variable);
    CHECK(ring->primary_key_id() == "env:1");
    CHECK(ring->key_ids().size() == 2);
  }
  ::unsetenv(variable);
}

TEST_CASE("StaticKeyring wrap and unwrap") {
  std::vector<StaticKeyring::Key> keys;
  keys.emplace_back("k1", random_key());
  keys.emplace_back("k2", random_key());
  const StaticKeyring ring("k1", std::move(keys));
  const SecretBytes dek = random_key();

  const Bytes edk = ring.wrap("k1", dek, kAad);
  CHECK(edk.size() == 12 + dek.size() + 16);  // nonce || ciphertext || tag
  CHECK(ring.unwrap("k1", edk, kAad) == dek);
  CHECK(ring.unwrap("k2", ring.wrap("k2", dek, kAad), kAad) == dek);
  CHECK(ring.wrap("k1", dek, kAad) != edk);  // fresh nonce each time

  SUBCASE("other associated data") {
    CHECK_THROWS_AS(ring.unwrap("k1", edk, Bytes{'r', 'o', 'w', 2}), Integrity);
    CHECK_THROWS_AS(ring.unwrap("k1", edk, Bytes{}), Integrity);
  }
  SUBCASE("other key id in the same keyring") {
    CHECK_THROWS_AS(ring.unwrap("k2", edk, kAad), Integrity);
  }
  SUBCASE("tampered or short edk") {
    for (std::size_t at : {std::size_t{0}, std::size_t{12}, edk.size() - 1}) {
      Bytes bad = edk;
      bad[at] ^= 0x80;
      CAPTURE(at);
      CHECK_THROWS_AS(ring.unwrap("k1", bad, kAad), Integrity);
    }
    CHECK_THROWS_AS(ring.unwrap("k1", Bytes(edk.begin(), edk.begin() + 27), kAad), Integrity);
    CHECK_THROWS_AS(ring.unwrap("k1", Bytes{}, kAad), Integrity);
  }
  SUBCASE("unknown key id") {
    CHECK_THROWS_AS(ring.wrap("k3", dek, kAad), KeyUnavailable);
    CHECK_THROWS_AS(ring.unwrap("k3", edk, kAad), KeyUnavailable);
  }
  SUBCASE("same id, different key") {
    const StaticKeyring other("k1", one_key("k1", random_key()));
    // Named, with the likely cause: an operator who pasted another key is not told only
    // "tampering".
    CHECK_THROWS_WITH_AS(other.unwrap("k1", edk, kAad),
                         doctest::Contains("under key 'k1' (the data was altered, or that key id holds another key"),
                         Integrity);
  }
  SUBCASE("wrapped DEK does not contain the DEK") {
    const std::string haystack(edk.begin(), edk.end());
    const std::string needle(dek.begin(), dek.begin() + 8);
    CHECK(haystack.find(needle) == std::string::npos);
  }
}

// The wrapping keys keep their AES-GCM key schedules in mode objects that calls borrow.
TEST_CASE("StaticKeyring stays usable after a failed unwrap") {
  const StaticKeyring ring("k1", one_key("k1", random_key()));
  const SecretBytes dek = random_key();
  const Bytes edk = ring.wrap("k1", dek, kAad);
  Bytes bad = edk;
  bad.back() ^= 0x01;
  for (int i = 0; i < 3; ++i) {
    CHECK_THROWS_AS(ring.unwrap("k1", bad, kAad), Integrity);
    CHECK(ring.unwrap("k1", edk, kAad) == dek);
    CHECK(ring.unwrap("k1", ring.wrap("k1", dek, kAad), kAad) == dek);
  }
}

TEST_CASE("StaticKeyring wraps and unwraps from many threads at once") {
  std::vector<StaticKeyring::Key> keys;
  keys.emplace_back("k1", random_key());
  keys.emplace_back("k2", random_key());
  const StaticKeyring ring("k1", std::move(keys));
  constexpr int kThreads = 6, kRounds = 300;
  std::atomic<int> mismatches{0}, errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::string kid = t % 2 ? "k1" : "k2";
      const Bytes aad{'t', static_cast<std::uint8_t>(t)};
      try {
        for (int i = 0; i < kRounds; ++i) {
          const SecretBytes dek = random_key();
          if (ring.unwrap(kid, ring.wrap(kid, dek, aad), aad) != dek) ++mismatches;
        }
      } catch (...) {
        ++errors;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(mismatches == 0);
  CHECK(errors == 0);
}
