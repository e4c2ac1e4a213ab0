// Strict base64, envelope v1 JSON, the Sealer and the cipher registry.
#include "crypto/base64.hpp"
#include "crypto/envelope.hpp"
#include "crypto/hkdf.hpp"
#include "crypto/sealer.hpp"

#include <datahub/cipher.hpp>
#include <datahub/error.hpp>
#include <datahub/key_provider.hpp>

#include <botan/base64.h>
#include <botan/kdf.h>
#include <botan/system_rng.h>
#include <doctest/doctest.h>

#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

using datahub::Bytes;
using datahub::Integrity;
using datahub::InvalidArgument;
using datahub::KeyUnavailable;
using datahub::SecretBytes;
using datahub::StaticKeyring;
using namespace datahub::crypto;

namespace {

template <typename Buffer>
Buffer random_bytes(std::size_t n) {
  Buffer b(n);
  Botan::system_rng().randomize(b.data(), b.size());
  return b;
}

std::shared_ptr<StaticKeyring> keyring(const std::string& kid) {
  std::vector<StaticKeyring::Key> keys;
  keys.emplace_back(kid, random_bytes<SecretBytes>(32));
  return std::make_shared<StaticKeyring>(kid, std::move(keys));
}

bool registered(const std::shared_ptr<const datahub::Cipher>& c) { return c != nullptr; }

SecretBytes secret(const std::string& s) { return SecretBytes(s.begin(), s.end()); }

Envelope sample_envelope() {
  Envelope e;
  e.alg = "A256GCM";
  e.kid = "local:2026-11:3f9a1c2e";
  e.mid = random_bytes<Bytes>(32);
  e.edk = random_bytes<Bytes>(60);
  e.nonce = random_bytes<Bytes>(12);
  e.ciphertext = random_bytes<Bytes>(45);
  return e;
}

bool same(const Envelope& a, const Envelope& b) {
  return a.v == b.v && a.alg == b.alg && a.kid == b.kid && a.mid == b.mid && a.edk == b.edk &&
         a.nonce == b.nonce && a.ciphertext == b.ciphertext;
}

// The envelope's JSON with the string value of `member` replaced.
std::string with_member(const Envelope& e, const std::string& member, const std::string& value) {
  std::string json = to_json(e);
  const std::string key = "\"" + member + "\":\"";
  const std::size_t start = json.find(key);
  REQUIRE(start != std::string::npos);
  const std::size_t from = start + key.size();
  const std::size_t to = json.find('"', from);
  return json.replace(from, to - from, value);
}

}  // namespace

TEST_CASE("base64_decode_strict accepts canonical encodings") {
  for (std::size_t n : {0, 1, 2, 3, 4, 31, 32, 33}) {
    CAPTURE(n);
    const Bytes data = random_bytes<Bytes>(n);
    const std::string text = base64_encode(data);
    CHECK(text.size() % 4 == 0);
    Bytes out;
    CHECK(base64_decode_strict(text, out));
    CHECK(out == data);
    SecretBytes secret_out;
    CHECK(base64_decode_strict(text, secret_out));
    CHECK(Bytes(secret_out.begin(), secret_out.end()) == data);
  }
  Bytes out;
  REQUIRE(base64_decode_strict("QQ==", out));
  CHECK(out == Bytes{'A'});
  REQUIRE(base64_decode_strict("QUI=", out));
  CHECK(out == Bytes{'A', 'B'});
}

TEST_CASE("base64_encode matches RFC 4648's vectors and Botan's encoder") {
  const std::pair<const char*, const char*> vectors[] = {{"", ""},         {"f", "Zg=="},     {"fo", "Zm8="},
                                                         {"foo", "Zm9v"},  {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="},
                                                         {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, encoded] : vectors) {
    CHECK(base64_encode(reinterpret_cast<const std::uint8_t*>(plain), std::strlen(plain)) == encoded);
  }
  for (std::size_t n = 0; n <= 64; ++n) {
    CAPTURE(n);
    const Bytes data = random_bytes<Bytes>(n);
    CHECK(base64_encode(data) == Botan::base64_encode(data.data(), data.size()));
  }
}

TEST_CASE("base64_decode_strict rejects everything else") {
  for (const char* bad : {"QR==",       // nonzero padding bits
                          "QUJ=",       // nonzero padding bits, one '='
                          "QQ",         // missing padding
                          "QQ=",        // short padding
                          "QUI",        // missing padding
                          "QQ==\n",     // trailing newline
                          " QQ==",      // leading space
                          "QU I=",      // inner space
                          "QQ==QQ==",   // padding in the middle
                          "Q===",       // too much padding
                          "QQ-_",       // URL-safe alphabet
                          "QQ*=",       // invalid character
                          "===="}) {
    CAPTURE(bad);
    Bytes out;
    CHECK_FALSE(base64_decode_strict(bad, out));
    SecretBytes secret_out;
    CHECK_FALSE(base64_decode_strict(bad, secret_out));
  }
}

TEST_CASE("envelope JSON round-trips") {
  const Envelope e = sample_envelope();
  const std::string json = to_json(e);
  CHECK(json.find("\"v\":1") != std::string::npos);
  CHECK(json.find("\"kid\":\"local:2026-11:3f9a1c2e\"") != std::string::npos);
  CHECK(same(parse_envelope(json), e));
  Envelope x = sample_envelope();
  x.alg = "XC20P";
  x.nonce = random_bytes<Bytes>(24);
  CHECK(same(parse_envelope(to_json(x)), x));
  // Member order does not matter (JSONB reorders keys).
  const std::string reordered = "{\"ct\":\"" + base64_encode(e.ciphertext) + "\",\"n\":\"" +
                                base64_encode(e.nonce) + "\",\"edk\":\"" + base64_encode(e.edk) +
                                "\",\"mid\":\"" + base64_encode(e.mid) + "\",\"kid\":\"" + e.kid +
                                "\",\"alg\":\"" + e.alg + "\",\"v\":1}";
  CHECK(same(parse_envelope(reordered), e));
}

TEST_CASE("parse_envelope rejects anything it did not write, with Integrity") {
  const Envelope e = sample_envelope();
  const std::string json = to_json(e);
  const std::string body = json.substr(1, json.size() - 2);  // members without braces
  SUBCASE("not an object") {
    CHECK_THROWS_AS(parse_envelope(""), Integrity);
    CHECK_THROWS_AS(parse_envelope("[]"), Integrity);
    CHECK_THROWS_AS(parse_envelope(json + "x"), Integrity);
    CHECK_THROWS_AS(parse_envelope(json.substr(0, json.size() - 1)), Integrity);
  }
  SUBCASE("extra member") {
    CHECK_THROWS_AS(parse_envelope("{" + body + ",\"x\":1}"), Integrity);
  }
  SUBCASE("missing member") {
    for (const char* member : {"\"alg\"", "\"kid\"", "\"mid\"", "\"edk\"", "\"n\"", "\"ct\""}) {
      CAPTURE(member);
      // Replace the member's key by an unknown one: 7 members, one missing.
      std::string j = json;
      j.replace(j.find(member), std::string(member).size(), "\"zz\"");
      CHECK_THROWS_AS(parse_envelope(j), Integrity);
    }
    std::string no_v = json;
    no_v.replace(no_v.find("\"v\""), 3, "\"w\"");
    CHECK_THROWS_AS(parse_envelope(no_v), Integrity);
    CHECK_THROWS_AS(parse_envelope("{" + body.substr(body.find(',') + 1) + "}"), Integrity);
  }
  SUBCASE("duplicate member standing in for a missing one") {
    std::string j = json;
    j.replace(j.find("\"ct\""), 4, "\"n\"");
    CHECK_THROWS_AS(parse_envelope(j), Integrity);
  }
  SUBCASE("version") {
    std::string v2 = json;
    v2.replace(v2.find("\"v\":1"), 5, "\"v\":2");
    CHECK_THROWS_AS(parse_envelope(v2), Integrity);
    std::string vs = json;
    vs.replace(vs.find("\"v\":1"), 5, "\"v\":\"1\"");
    CHECK_THROWS_AS(parse_envelope(vs), Integrity);
    std::string vf = json;
    vf.replace(vf.find("\"v\":1"), 5, "\"v\":1.0");
    CHECK_THROWS_AS(parse_envelope(vf), Integrity);
  }
  SUBCASE("non-string members") {
    std::string j = json;
    const std::size_t at = j.find("\"alg\":\"A256GCM\"");
    j.replace(at, 15, "\"alg\":7");
    CHECK_THROWS_AS(parse_envelope(j), Integrity);
  }
  SUBCASE("non-canonical base64") {
    Envelope one = e;
    one.ciphertext = Bytes{'A'};
    const std::string canonical = to_json(one);
    CHECK_NOTHROW(parse_envelope(canonical));
    CHECK_THROWS_AS(parse_envelope(with_member(one, "ct", "QR==")), Integrity);
    CHECK_THROWS_AS(parse_envelope(with_member(one, "ct", "QQ")), Integrity);
    CHECK_THROWS_AS(parse_envelope(with_member(e, "edk", base64_encode(e.edk) + "\\n")), Integrity);
    CHECK_THROWS_AS(parse_envelope(with_member(e, "n", "!!!!")), Integrity);
  }
  SUBCASE("mid must be 32 bytes") {
    CHECK_THROWS_AS(parse_envelope(with_member(e, "mid", base64_encode(random_bytes<Bytes>(31)))),
                    Integrity);
    CHECK_THROWS_AS(parse_envelope(with_member(e, "mid", base64_encode(random_bytes<Bytes>(33)))),
                    Integrity);
  }
  SUBCASE("malformed kid") {
    for (const std::string& kid : std::vector<std::string>{"", "has space", "semi;colon", "quote\\\"",
                                                          std::string(129, 'k')}) {
      CAPTURE(kid);
      CHECK_THROWS_AS(parse_envelope(with_member(e, "kid", kid)), Integrity);
    }
    CHECK_NOTHROW(parse_envelope(with_member(e, "kid", std::string(128, 'k'))));
  }
  SUBCASE("malformed alg, and bytes that are not UTF-8 (the parser leaves them to these checks)") {
    for (const std::string& alg : std::vector<std::string>{"", "A256 GCM", "A256GCM\\u0000", "\xc3\xa9",
                                                          "\xff\xfe", std::string(17, 'A')}) {
      CAPTURE(alg);
      CHECK_THROWS_AS(parse_envelope(with_member(e, "alg", alg)), Integrity);
    }
    CHECK_THROWS_AS(parse_envelope(with_member(e, "kid", "k\xff")), Integrity);
    CHECK_THROWS_AS(parse_envelope(with_member(e, "ct", "QQ\xc3\xa9==")), Integrity);
    CHECK_NOTHROW(parse_envelope(with_member(e, "alg", std::string(16, 'A'))));  // opens as unknown alg
  }
}

TEST_CASE("cipher registry") {
  const auto gcm = datahub::find_cipher("A256GCM");
  REQUIRE(registered(gcm));
  CHECK(gcm->name() == "A256GCM");
  CHECK(gcm->nonce_length() == 12);
  CHECK(gcm->key_length() == 32);
  const auto xc = datahub::find_cipher("XC20P");
  REQUIRE(registered(xc));
  CHECK(xc->name() == "XC20P");
  CHECK(xc->nonce_length() == 24);
  CHECK(xc->key_length() == 32);
  CHECK_FALSE(registered(datahub::find_cipher("AES-256/GCM")));
  CHECK_FALSE(registered(datahub::find_cipher("a256gcm")));
  CHECK_FALSE(registered(datahub::find_cipher("")));

  SUBCASE("register_cipher rejects null and bad names") {
    struct Named final : datahub::Cipher {
      explicit Named(std::string n) : n_(std::move(n)) {}
      std::string name() const override { return n_; }
      std::size_t key_length() const override { return 32; }
      std::size_t nonce_length() const override { return 12; }
      Bytes seal(const SecretBytes&, const Bytes&, const SecretBytes& p, const Bytes&) const override {
        return Bytes(p.begin(), p.end());
      }
      SecretBytes open(const SecretBytes&, const Bytes&, const Bytes& c, const Bytes&) const override {
        return SecretBytes(c.begin(), c.end());
      }
      std::string n_;
    };
    try {
      datahub::register_cipher(nullptr);
      FAIL("accepted null");
    } catch (const InvalidArgument& err) {
      CHECK(err.field() == "cipher");
    }
    for (const std::string bad : {"", "has space", "A256GCM/x", "seventeen-chars-x", "\xC3\xA9t\xC3\xA9"}) {
      CAPTURE(bad);
      try {
        datahub::register_cipher(std::make_shared<Named>(bad));
        FAIL("accepted");
      } catch (const InvalidArgument& err) {
        CHECK(err.field() == "cipher");
      }
      CHECK_FALSE(registered(datahub::find_cipher(bad)));
    }
    datahub::register_cipher(std::make_shared<Named>("TEST_only-cipher"));  // 16 characters
    const auto found = datahub::find_cipher("TEST_only-cipher");
    REQUIRE(registered(found));
    CHECK(found->name() == "TEST_only-cipher");
  }
}

TEST_CASE("built-in ciphers seal and open directly") {
  for (const char* name : {"A256GCM", "XC20P"}) {
    CAPTURE(name);
    const auto c = datahub::find_cipher(name);
    REQUIRE(registered(c));
    const SecretBytes key = random_bytes<SecretBytes>(32);
    const Bytes nonce = random_bytes<Bytes>(c->nonce_length());
    const Bytes aad{1, 2, 3};
    const SecretBytes plain = secret("hello, cipher");
    const Bytes ct = c->seal(key, nonce, plain, aad);
    CHECK(ct.size() == plain.size() + 16);
    CHECK(c->open(key, nonce, ct, aad) == plain);
    CHECK_THROWS_AS(c->open(key, nonce, ct, Bytes{1, 2, 4}), Integrity);
    Bytes bad = ct;
    bad[0] ^= 1;
    CHECK_THROWS_AS(c->open(key, nonce, bad, aad), Integrity);
    CHECK_THROWS_AS(c->open(key, nonce, Bytes(15), aad), Integrity);
  }
}

TEST_CASE("Sealer round-trips with both ciphers") {
  const auto keys = keyring("local:2026-11:3f9a1c2e");
  for (const auto& [name, nonce_length] : {std::pair<const char*, std::size_t>{"A256GCM", 12},
                                           std::pair<const char*, std::size_t>{"XC20P", 24}}) {
    CAPTURE(name);
    const Sealer sealer(keys, name);
    CHECK(sealer.cipher_name() == name);
    const SecretBytes plain = secret(R"({"host":"db","password":"Pa55-UNIQUE-MARKER"})");
    const Envelope e = sealer.seal(plain, 42);
    CHECK(e.v == 1);
    CHECK(e.alg == name);
    CHECK(e.kid == "local:2026-11:3f9a1c2e");
    CHECK(e.mid.size() == 32);
    CHECK(e.nonce.size() == nonce_length);
    CHECK(e.ciphertext.size() == plain.size() + 16);
    CHECK(sealer.open(e, 42) == plain);
    // Through JSON, as stored.
    const std::string json = to_json(e);
    CHECK(json.find("Pa55-UNIQUE-MARKER") == std::string::npos);
    CHECK(json.find("host") == std::string::npos);
    CHECK(sealer.open(parse_envelope(json), 42) == plain);
    // Empty plaintext works too.
    CHECK(sealer.open(sealer.seal(SecretBytes(), 7), 7).empty());
  }
}

TEST_CASE("Sealer uses fresh randomness every time") {
  const Sealer sealer(keyring("k1"), "A256GCM");
  const SecretBytes plain = secret("same plaintext");
  const Envelope a = sealer.seal(plain, 1);
  const Envelope b = sealer.seal(plain, 1);
  CHECK(a.mid != b.mid);
  CHECK(a.edk != b.edk);
  CHECK(a.nonce != b.nonce);
  CHECK(a.ciphertext != b.ciphertext);
}

namespace {

// Every tamper check for one cipher.
void check_tamper_detection(const std::string& name) {
  const auto keys = keyring("k1");
  {
    CAPTURE(name);
    const Sealer sealer(keys, name);
    const Envelope good = sealer.seal(secret("top secret details"), 1001);
    REQUIRE(sealer.open(good, 1001) == secret("top secret details"));

    {  // "another row id"
      CHECK_THROWS_AS(sealer.open(good, 1002), Integrity);
      CHECK_THROWS_AS(sealer.open(good, -1001), Integrity);
      CHECK_THROWS_AS(sealer.open(good, 1001 + (std::int64_t{1} << 32)), Integrity);
    }
    {  // "one flipped byte in ct, n, mid or edk"
      for (Bytes Envelope::*member : {&Envelope::ciphertext, &Envelope::nonce, &Envelope::mid,
                                      &Envelope::edk}) {
        for (std::size_t at : {std::size_t{0}, (good.*member).size() / 2, (good.*member).size() - 1}) {
          CAPTURE(at);
          Envelope bad = good;
          (bad.*member)[at] ^= 0x01;
          CHECK_THROWS_AS(sealer.open(bad, 1001), Integrity);
        }
      }
    }
    {  // "truncated ciphertext or edk"
      Envelope bad = good;
      bad.ciphertext.pop_back();
      CHECK_THROWS_AS(sealer.open(bad, 1001), Integrity);
      bad = good;
      bad.ciphertext.resize(10);
      CHECK_THROWS_AS(sealer.open(bad, 1001), Integrity);
      bad = good;
      bad.edk.resize(5);
      CHECK_THROWS_AS(sealer.open(bad, 1001), Integrity);
    }
    {  // "alg switched to the other cipher"
      Envelope bad = good;
      bad.alg = name == "A256GCM" ? "XC20P" : "A256GCM";
      CHECK_THROWS_AS(sealer.open(bad, 1001), Integrity);
      // Even with a nonce of the right length for the claimed alg.
      bad.nonce.resize(datahub::find_cipher(bad.alg)->nonce_length());
      CHECK_THROWS_AS(sealer.open(bad, 1001), Integrity);
    }
    {  // "unknown alg or version"
      Envelope bad = good;
      bad.alg = "A128GCM";
      CHECK_THROWS_AS(sealer.open(bad, 1001), Integrity);
      bad = good;
      bad.v = 2;
      CHECK_THROWS_AS(sealer.open(bad, 1001), Integrity);
    }
    {  // "kid not in the keyring"
      Envelope bad = good;
      bad.kid = "k2";
      CHECK_THROWS_AS(sealer.open(bad, 1001), KeyUnavailable);
    }
    {  // "same kid, different key"
      const Sealer other(keyring("k1"), name);
      CHECK_THROWS_AS(other.open(good, 1001), Integrity);
    }
  }
}

}  // namespace

// Plain blocks, not nested SUBCASEs: doctest re-enters a test case once per leaf subcase,
// which does not mix with subcases inside a helper called from a subcase.
TEST_CASE("Sealer::open detects tampering and swaps") {
  for (const char* name : {"A256GCM", "XC20P"}) check_tamper_detection(name);
}

TEST_CASE("Sealer needs a known cipher and a key provider") {
  try {
    Sealer(keyring("k1"), "ROT13");
    FAIL("accepted");
  } catch (const InvalidArgument& e) {
    CHECK(e.field() == "cipher");
  }
  try {
    Sealer(nullptr, "A256GCM");
    FAIL("accepted");
  } catch (const InvalidArgument& e) {
    CHECK(e.field() == "keys");
  }
}

TEST_CASE("dek_associated_data binds the key id") {
  CHECK(dek_associated_data("k1") == dek_associated_data("k1"));
  CHECK(dek_associated_data("k1") != dek_associated_data("k2"));
  // Length-prefixed: no ambiguity between a label and a key id.
  CHECK(dek_associated_data("a:b") != dek_associated_data("a:b:"));
}

TEST_CASE("the content-key HKDF matches Botan's HKDF(SHA-256)") {
  auto hkdf = Botan::KDF::create_or_throw("HKDF(SHA-256)");
  for (std::size_t length : {std::size_t{16}, std::size_t{32}}) {
    const SecretBytes secret = Botan::system_rng().random_vec(32);
    Bytes salt(32);
    Botan::system_rng().randomize(salt.data(), salt.size());
    const std::string info = "datahub.connections.cek.v1|A256GCM";
    CHECK(datahub::crypto::hkdf_sha256(secret, salt.data(), salt.size(), info, length) ==
          hkdf->derive_key(length, secret, salt.data(), salt.size(), info));
  }
}
