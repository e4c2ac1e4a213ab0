// A misbehaving key provider (a buggy or hostile KMS adapter): whatever it returns or
// throws, the store loses no row, writes none that never opens, and reports no success it
// did not have.
#include "store/support.hpp"

#include <datahub/transfer.hpp>

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <sstream>
#include <stdexcept>

namespace {

using test::ForwardingProvider;

std::string stored_edk(std::int64_t id) { return test::stored(id, "connection_details->>'edk'"); }
std::string stored_kid(std::int64_t id) { return test::stored(id, "connection_details->>'kid'"); }
const std::string kPassword = "Pa55-word-MARKER";  // test::sample's

std::unique_ptr<datahub::ConnectionStore> open_store(std::shared_ptr<const datahub::KeyProvider> keys,
                                                     bool dek_cache) {
  datahub::StoreOptions options;
  options.database = test::database();
  options.keys = std::move(keys);
  if (dek_cache) {
    options.dek_cache.ttl = std::chrono::seconds(60);
    options.dek_cache.max_uses = 1;  // every seal asks the provider for a new wrapped key
  }
  return std::make_unique<datahub::ConnectionStore>(options);
}

void check_opens(std::int64_t id, const std::string& password = kPassword) {
  const auto c = test::open_store(test::keyring("k2", {"k1", "k2"}))->get(id, datahub::Secrets::reveal);
  REQUIRE(c.details.find_string("password") != nullptr);
  CHECK(*c.details.find_string("password") == password);
}

}  // namespace

TEST_CASE("a wrap() that does not unwrap again fails the write: no row is written that never opens") {
  // A broken KMS adapter returns a wrapped key that is not the data key's (1 byte, random
  // bytes, a flipped bit, or it encrypts the buffer it was given in place). Every write
  // that seals (create, create_many, update, import) must fail, not report a record it
  // stored that never opens again.
  class GarbageWrap : public ForwardingProvider {
   public:
    using ForwardingProvider::ForwardingProvider;
    datahub::Bytes wrap(const std::string& kid, const datahub::SecretBytes& dek, const datahub::Bytes& aad) const override {
      if (!broken) return ForwardingProvider::wrap(kid, dek, aad);
      if (how == 0) return datahub::Bytes{0x42};
      if (how == 1) {
        datahub::Bytes edk = ForwardingProvider::wrap(kid, dek, aad);
        edk[edk.size() / 2] ^= 0x01;
        return edk;
      }
      if (how == 2) return datahub::Bytes(60, static_cast<std::uint8_t>(++calls));  // different each call
      // Wraps, then scribbles over the caller's buffer (a C adapter encrypting in place).
      datahub::Bytes edk = ForwardingProvider::wrap(kid, dek, aad);
      auto& writable = const_cast<datahub::SecretBytes&>(dek);
      for (auto& b : writable) b ^= 0x5a;
      return edk;
    }
    int how = 0;
    std::atomic<bool> broken{false};
    mutable std::atomic<int> calls{0};
  };
  for (const bool dek_cache : {false, true}) {
  for (const int how : {0, 1, 2, 3}) {
  CAPTURE(dek_cache);
  CAPTURE(how);
  test::clear_table();
  auto provider = std::make_shared<GarbageWrap>(test::keyring("k2", {"k1", "k2"}));
  provider->how = how;
  auto store = open_store(provider, dek_cache);
  const auto existing = store->create(test::sample("written before"), "t");

  // An export of the good row, to import through the broken provider.
  std::stringstream exported;
  datahub::export_connections(*store, exported);

  provider->broken = true;
  CHECK_THROWS_AS(store->create(test::sample("never opens"), "t"), datahub::KeyUnavailable);
  CHECK_THROWS_AS(store->create_many(test::samples("never opens in bulk ", 3), "t"), datahub::KeyUnavailable);
  datahub::ConnectionPatch p;
  p.details.set("password", "new-password");
  CHECK_THROWS_AS(store->force_update(existing.id, p, "t"), datahub::KeyUnavailable);
  CHECK(test::row_count() == 1);
  check_opens(existing.id);  // the update changed nothing

  test::clear_table();
  CHECK_THROWS_AS(datahub::import_connections(*store, exported), datahub::KeyUnavailable);
  CHECK(test::row_count() == 0);

  provider->broken = false;  // a cached wrapped key from the broken calls would show here
  const auto later = store->create(test::sample("after the fix"), "t");
  check_opens(later.id);
  }
  }
}

namespace {

// Keeps the first data key it unwrapped under `kid` and returns it for every later unwrap
// under that id, whatever the wrapped key: an adapter caching by key id alone. Every other
// row under that id then gets a well-formed 32-byte key that is not its own.
class CachesByKeyId : public ForwardingProvider {
 public:
  using ForwardingProvider::ForwardingProvider;
  datahub::SecretBytes unwrap(const std::string& kid, const datahub::Bytes& edk, const datahub::Bytes& aad) const override {
    if (!broken || kid != "k1") return ForwardingProvider::unwrap(kid, edk, aad);
    std::lock_guard<std::mutex> lock(mutex_);
    if (!first_) first_ = ForwardingProvider::unwrap(kid, edk, aad);
    return *first_;
  }
  std::atomic<bool> broken{true};

 private:
  mutable std::mutex mutex_;
  mutable std::optional<datahub::SecretBytes> first_;
};

}  // namespace

TEST_CASE("a re-wrap never moves a row whose data key the provider unwrapped wrongly") {
  // The wrong key has the right length and round-trips through the new key's wrap and
  // unwrap: only the row's ciphertext can tell it is not the row's. A re-wrap that writes
  // it over the row's only wrapped copy of its data key loses the row.
  datahub::RotateOptions options;
  options.batch_size = 2;
  SUBCASE("re-wrap") {}
  SUBCASE("re-wrap, two workers") { options.workers = 2; }
  SUBCASE("dry run") { options.dry_run = true; }
  SUBCASE("re-encrypt") { options.reencrypt = true; }
  for (const bool dek_cache : {false, true}) {
  CAPTURE(dek_cache);
  test::clear_table();
  auto old_store = test::open_store(test::keyring("k1", {"k1"}));
  std::vector<std::int64_t> ids;
  for (int i = 0; i < 6; ++i) ids.push_back(old_store->create(test::sample("wrong key " + std::to_string(i)), "t").id);
  std::vector<std::string> edks;
  for (auto id : ids) edks.push_back(stored_edk(id));

  auto provider = std::make_shared<CachesByKeyId>(test::keyring("k2", {"k1", "k2"}));
  auto store = open_store(provider, dek_cache);
  CHECK_NOTHROW(store->get(ids[0]));  // the first unwrap is right
  CHECK_THROWS_AS(store->get(ids[1]), datahub::Integrity);  // the AEAD says the key is wrong

  const auto report = store->rotate(options);
  CHECK(report.scanned == 6);
  CHECK(report.failed == 5);
  CHECK(report.rewritten == 1);  // the first row, whose key was right
  for (std::size_t i = 1; i < ids.size(); ++i) {
    CHECK(stored_kid(ids[i]) == "k1");
    CHECK(stored_edk(ids[i]) == edks[i]);
  }
  provider->broken = false;
  auto fixed = test::open_store(provider);
  CHECK(fixed->rotate().failed == 0);
  CHECK(fixed->verify().failed.empty());
  for (auto id : ids) check_opens(id);
  }
}

TEST_CASE("a wrapped key larger than 64 KiB is the provider failing: nothing written, no row moved") {
  // A wrap() result that does unwrap again, but is 1 MiB: it would be copied into every
  // envelope, every 1000-row batch of create_many and rotate, and every read.
  class HugeWrap : public ForwardingProvider {
   public:
    using ForwardingProvider::ForwardingProvider;
    datahub::Bytes wrap(const std::string& kid, const datahub::SecretBytes& dek, const datahub::Bytes& aad) const override {
      datahub::Bytes edk = ForwardingProvider::wrap(kid, dek, aad);
      if (huge) edk.resize(edk.size() + (std::size_t{1} << 20), 0);
      return edk;
    }
    datahub::SecretBytes unwrap(const std::string& kid, const datahub::Bytes& edk, const datahub::Bytes& aad) const override {
      datahub::Bytes trimmed = edk;
      if (trimmed.size() > (std::size_t{1} << 20)) trimmed.resize(trimmed.size() - (std::size_t{1} << 20));
      return ForwardingProvider::unwrap(kid, trimmed, aad);
    }
    std::atomic<bool> huge{false};
  };
  test::clear_table();
  const auto id = test::open_store(test::keyring("k1", {"k1"}))->create(test::sample("small key"), "t").id;
  const std::string edk_before = stored_edk(id);
  auto provider = std::make_shared<HugeWrap>(test::keyring("k2", {"k1", "k2"}));
  auto store = test::open_store(provider);
  provider->huge = true;
  CHECK_THROWS_AS(store->create(test::sample("huge key"), "t"), datahub::KeyUnavailable);
  CHECK_THROWS_AS(store->create_many(test::samples("huge keys ", 2), "t"), datahub::KeyUnavailable);
  CHECK(test::row_count() == 1);
  const auto report = store->rotate();
  CHECK(report.failed == 1);
  CHECK(report.rewritten == 0);
  CHECK(stored_edk(id) == edk_before);
  provider->huge = false;
  CHECK(store->rotate().rewritten == 1);
  check_opens(id);
}

TEST_CASE("a provider that throws another kind of datahub::Error is a failing provider") {
  // Only KeyUnavailable, and Integrity from unwrap(), mean something from a provider. Its
  // NotFound must not say an existing row is gone, its Conflict must not ask for a retry,
  // its InvalidArgument must not blame the caller's input, and its Integrity from wrap()
  // must not say stored data was altered.
  class Throws : public ForwardingProvider {
   public:
    using ForwardingProvider::ForwardingProvider;
    std::string primary_key_id() const override {
      if (in == "primary") raise();
      return ForwardingProvider::primary_key_id();
    }
    datahub::Bytes wrap(const std::string& kid, const datahub::SecretBytes& dek, const datahub::Bytes& aad) const override {
      if (in == "wrap") raise();
      return ForwardingProvider::wrap(kid, dek, aad);
    }
    datahub::SecretBytes unwrap(const std::string& kid, const datahub::Bytes& edk, const datahub::Bytes& aad) const override {
      if (in == "unwrap") raise();
      return ForwardingProvider::unwrap(kid, edk, aad);
    }
    void raise() const {
      if (kind == 0) throw datahub::NotFound("kms: key not found");
      if (kind == 1) throw datahub::Conflict("kms: concurrent modification");
      if (kind == 2) throw datahub::InvalidArgument("key_id", "kms: bad request");
      throw datahub::Integrity("kms: bad ciphertext");
    }
    std::string in;
    int kind = 0;
  };
  test::clear_table();
  auto provider = std::make_shared<Throws>(test::keyring("k1", {"k1"}));
  auto store = test::open_store(provider);
  const auto id = store->create(test::sample("thrown at"), "t").id;
  datahub::ConnectionPatch p;
  p.details.set("password", "new-password");
  for (int kind = 0; kind < 4; ++kind) {
    CAPTURE(kind);
    provider->kind = kind;
    for (const std::string in : {"primary", "wrap"}) {
      CAPTURE(in);
      provider->in = in;
      CHECK_THROWS_AS(store->create(test::sample("refused"), "t"), datahub::KeyUnavailable);
      CHECK_THROWS_AS(store->force_update(id, p, "t"), datahub::KeyUnavailable);
    }
    provider->in = "unwrap";
    if (kind == 3) {
      CHECK_THROWS_AS(store->get(id), datahub::Integrity);  // unwrap's Integrity keeps its meaning
    } else {
      CHECK_THROWS_AS(store->get(id), datahub::KeyUnavailable);
      const auto page = store->list({});
      REQUIRE(page.items.size() == 1);
      REQUIRE(page.items[0].error);
      CHECK(page.items[0].error->code == datahub::ErrorCode::key_unavailable);
    }
  }
  provider->in.clear();
  CHECK(test::row_count() == 1);
  check_opens(id);
}

TEST_CASE("with the DEK cache on, a wrong key the provider unwrapped once is not kept") {
  // The opening cache kept whatever unwrap() returned: after one wrong answer the row
  // failed with Integrity for the rest of the ttl, though the provider had recovered.
  class WrongOnce : public ForwardingProvider {
   public:
    using ForwardingProvider::ForwardingProvider;
    datahub::SecretBytes unwrap(const std::string& kid, const datahub::Bytes& edk, const datahub::Bytes& aad) const override {
      if (wrong.exchange(false)) return datahub::SecretBytes(32, 0x17);
      return ForwardingProvider::unwrap(kid, edk, aad);
    }
    mutable std::atomic<bool> wrong{false};
  };
  test::clear_table();
  const std::int64_t id = test::open_store(test::keyring("k1", {"k1"}))->create(test::sample("wrong once"), "t").id;
  auto provider = std::make_shared<WrongOnce>(test::keyring("k1", {"k1"}));
  auto store = open_store(provider, /*dek_cache=*/true);
  provider->wrong = true;
  CHECK_THROWS_AS(store->get(id), datahub::Integrity);
  CHECK_NOTHROW(store->get(id));
}

TEST_CASE("a malformed primary key id does not make a read fail, nor its record stale") {
  class BadPrimary : public ForwardingProvider {
   public:
    using ForwardingProvider::ForwardingProvider;
    std::string primary_key_id() const override { return "bad id!"; }
  };
  test::clear_table();
  const std::int64_t id = test::open_store(test::keyring("k1", {"k1"}))->create(test::sample("bad primary"), "t").id;
  auto store = open_store(std::make_shared<BadPrimary>(test::keyring("k1", {"k1"})), false);
  datahub::Connection got;
  CHECK_NOTHROW(got = store->get(id));
  CHECK_FALSE(got.stale);
  CHECK_THROWS_AS(store->create(test::sample("refused"), "t"), datahub::KeyUnavailable);
}

TEST_CASE("a re-wrap reads the whole envelope only for a host's provider: a damaged ciphertext moves with ours, fails with it") {
  // The shipped keyring's unwrap cannot hand back a wrong key, so its re-wrap reads only v,
  // kid and edk; a host's provider's unwrap can, so the DEK must open the ciphertext first.
  test::clear_table();
  const auto id = test::open_store(test::keyring("k1", {"k1"}))->create(test::sample("damaged"), "t").id;
  const std::string ct = test::stored(id, "connection_details->>'ct'");
  // Not even base64: the whole envelope no longer parses.
  test::admin() << "UPDATE database_connections SET connection_details = "
                   "jsonb_set(connection_details, '{ct}', '\"not base64\"') WHERE id = :id", soci::use(id);
  const std::string edk_before = test::stored(id, "connection_details->>'edk'");

  SUBCASE("the shipped keyring: moved, and verify names it; mended, it opens under the new key alone") {
    auto store = test::open_store(test::keyring("k2", {"k1", "k2"}));
    const auto report = store->rotate();
    CHECK(report.rewritten == 1);
    CHECK(report.failed == 0);
    CHECK(test::stored(id, "connection_details->>'kid'") == "k2");
    const auto verified = store->verify();
    REQUIRE(verified.failed.size() == 1);
    CHECK(verified.failed[0].id == id);
    CHECK(verified.failed[0].code == datahub::ErrorCode::integrity);
    // The moved edk holds the row's own data key: with its ciphertext back, it opens.
    test::admin() << "UPDATE database_connections SET connection_details = "
                     "jsonb_set(connection_details, '{ct}', to_jsonb(CAST(:ct AS text))) WHERE id = :id",
        soci::use(ct, "ct"), soci::use(id, "id");
    const auto read = test::open_store(test::keyring("k2", {"k2"}))->get(id, datahub::Secrets::reveal);
    CHECK(*read.details.find_string("password") == *test::sample("damaged").details.find_string("password"));
  }
  SUBCASE("a host's provider: failed, the row as it was") {
    auto store = test::open_store(std::make_shared<test::ForwardingProvider>(test::keyring("k2", {"k1", "k2"})));
    const auto report = store->rotate();
    CHECK(report.rewritten == 0);
    CHECK(report.failed == 1);
    CHECK(test::stored(id, "connection_details->>'kid'") == "k1");
    CHECK(test::stored(id, "connection_details->>'edk'") == edk_before);
  }
  SUBCASE("the shipped keyring, a version not as written (checked as a read checks it): failed, the row as it was") {
    const char* damage = "jsonb_set(connection_details, '{v}', '2')";
    SUBCASE("another version") {}
    SUBCASE("the version as a string, which ->> would read as 1") {
      damage = "jsonb_set(connection_details, '{v}', '\"1\"')";
    }
    SUBCASE("no version") { damage = "connection_details - 'v'"; }
    test::admin() << std::string("UPDATE database_connections SET connection_details = ") + damage +
                         " WHERE id = :id", soci::use(id);
    const std::string before = test::stored(id, "CAST(connection_details AS text)");
    auto store = test::open_store(test::keyring("k2", {"k1", "k2"}));
    const auto report = store->rotate();
    CHECK(report.rewritten == 0);
    CHECK(report.failed == 1);
    CHECK(test::stored(id, "CAST(connection_details AS text)") == before);
  }
}
