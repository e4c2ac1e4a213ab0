// Only the envelope reaches the database; any change to it, or a move to another row, is caught.
#include "store/support.hpp"

#include <botan/base64.h>
#include <doctest/doctest.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <functional>

namespace {

std::string stored_envelope(std::int64_t id) { return test::stored(id, "connection_details"); }

void store_envelope(std::int64_t id, const std::string& json) {
  test::admin() << "UPDATE database_connections SET connection_details = CAST(:j AS jsonb) WHERE id = :id",
      soci::use(json), soci::use(id);
}

// Rewrites member `field` of row `id`'s envelope with `change` applied to its decoded bytes.
void tamper(std::int64_t id, const char* field, const std::function<void(Botan::secure_vector<uint8_t>&)>& change) {
  rapidjson::Document doc;
  doc.Parse(stored_envelope(id).c_str());
  REQUIRE(doc.IsObject());
  auto bytes = Botan::base64_decode(std::string(doc[field].GetString()));
  change(bytes);
  const std::string encoded = Botan::base64_encode(bytes);
  doc[field].SetString(encoded.c_str(), static_cast<rapidjson::SizeType>(encoded.size()), doc.GetAllocator());
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  doc.Accept(writer);
  store_envelope(id, buffer.GetString());
}

void set_member(std::int64_t id, const char* field, const char* value) {
  rapidjson::Document doc;
  doc.Parse(stored_envelope(id).c_str());
  doc[field].SetString(value, doc.GetAllocator());
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  doc.Accept(writer);
  store_envelope(id, buffer.GetString());
}

}  // namespace

TEST_CASE("the column holds only the envelope: no password, host or username in clear") {
  test::clear_table();
  auto c = test::sample("secret keeper", "Pa55-word-MARKER");
  c.details.set("host", "host-MARKER.example").set("username", "user-MARKER");
  const auto created = test::store().create(c, "tester");

  const std::string text = stored_envelope(created.id);
  for (const char* secret : {"Pa55-word-MARKER", "host-MARKER", "user-MARKER"}) {
    CAPTURE(secret);
    CHECK(text.find(secret) == std::string::npos);
  }
  rapidjson::Document doc;
  doc.Parse(text.c_str());
  REQUIRE(doc.IsObject());
  CHECK(doc.MemberCount() == 7);
  for (const char* member : {"v", "alg", "kid", "mid", "edk", "n", "ct"}) CHECK(doc.HasMember(member));
  CHECK(doc["v"].GetInt() == 1);
  CHECK(std::string(doc["alg"].GetString()) == "A256GCM");
  CHECK(std::string(doc["kid"].GetString()) == "k1");
  CHECK(Botan::base64_decode(std::string(doc["mid"].GetString())).size() == 32);
  CHECK(Botan::base64_decode(std::string(doc["n"].GetString())).size() == 12);

  const std::string dump = test::run("pg_dump --data-only '" + test::database() + "' 2>&1");
  REQUIRE(dump.find("database_connections") != std::string::npos);  // the dump did run
  for (const char* secret : {"Pa55-word-MARKER", "host-MARKER", "user-MARKER"}) {
    CAPTURE(secret);
    CHECK(dump.find(secret) == std::string::npos);
  }
}

TEST_CASE("a flipped byte in ct, n, mid or edk is an Integrity error") {
  for (const char* field : {"ct", "n", "mid", "edk"}) {
    CAPTURE(field);
    test::clear_table();
    const auto created = test::store().create(test::sample("tampered"), "tester");
    tamper(created.id, field, [](auto& bytes) { bytes[bytes.size() / 2] ^= 0x01; });
    CHECK_THROWS_AS(test::store().get(created.id), datahub::Integrity);
    CHECK_THROWS_AS(test::store().get(created.id, datahub::Secrets::reveal), datahub::Integrity);
  }
}

TEST_CASE("an envelope copied into another row does not open there") {
  test::clear_table();
  const auto a = test::store().create(test::sample("a", "password-of-a"), "tester");
  const auto b = test::store().create(test::sample("b", "password-of-b"), "tester");
  store_envelope(b.id, stored_envelope(a.id));
  CHECK_THROWS_AS(test::store().get(b.id), datahub::Integrity);
  CHECK(*test::store().get(a.id, datahub::Secrets::reveal).details.find_string("password") == "password-of-a");
}

TEST_CASE("an unknown kid is KeyUnavailable; a changed alg or version is Integrity") {
  test::clear_table();
  const auto created = test::store().create(test::sample("keyed"), "tester");
  const std::string original = stored_envelope(created.id);

  set_member(created.id, "kid", "no-such-key");
  CHECK_THROWS_AS(test::store().get(created.id), datahub::KeyUnavailable);
  store_envelope(created.id, original);

  set_member(created.id, "alg", "XC20P");
  CHECK_THROWS_AS(test::store().get(created.id), datahub::Integrity);
  set_member(created.id, "alg", "ROT13");
  CHECK_THROWS_AS(test::store().get(created.id), datahub::Integrity);
  store_envelope(created.id, original);

  test::admin() << "UPDATE database_connections SET connection_details = "
                   "jsonb_set(connection_details, '{v}', '2') WHERE id = :id", soci::use(created.id);
  CHECK_THROWS_AS(test::store().get(created.id), datahub::Integrity);
  store_envelope(created.id, original);
  CHECK_NOTHROW(test::store().get(created.id));

  // A store whose keyring lacks k1 cannot open the row.
  auto other = test::open_store(test::keyring("k9", {"k9"}));
  CHECK_THROWS_AS(other->get(created.id), datahub::KeyUnavailable);
  // And a keyring with an id "k1" but different material: the wrap does not verify.
  std::vector<datahub::StaticKeyring::Key> impostor{{"k1", Botan::secure_vector<uint8_t>(32, 0x42)}};
  auto wrong = test::open_store(std::make_shared<datahub::StaticKeyring>("k1", impostor));
  CHECK_THROWS_AS(wrong->get(created.id), datahub::Integrity);
}

TEST_CASE("rows sealed with A256GCM and XC20P open under either configuration") {
  test::clear_table();
  auto gcm = test::open_store(test::keyring(), "A256GCM");
  auto xchacha = test::open_store(test::keyring(), "XC20P");
  const auto a = gcm->create(test::sample("gcm row", "gcm-secret"), "tester");
  const auto b = xchacha->create(test::sample("xchacha row", "xchacha-secret"), "tester");
  CHECK(b.alg == "XC20P");
  for (auto* s : {gcm.get(), xchacha.get()}) {
    CHECK(*s->get(a.id, datahub::Secrets::reveal).details.find_string("password") == "gcm-secret");
    CHECK(*s->get(b.id, datahub::Secrets::reveal).details.find_string("password") == "xchacha-secret");
  }
  rapidjson::Document doc;
  doc.Parse(stored_envelope(b.id).c_str());
  CHECK(std::string(doc["alg"].GetString()) == "XC20P");
  CHECK(Botan::base64_decode(std::string(doc["n"].GetString())).size() == 24);
  tamper(b.id, "ct", [](auto& bytes) { bytes[0] ^= 0x80; });
  CHECK_THROWS_AS(gcm->get(b.id), datahub::Integrity);
  CHECK_THROWS_AS(xchacha->get(b.id), datahub::Integrity);
}
