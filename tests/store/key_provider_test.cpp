// The store as a host's key provider sees it: the DEK cache's calls, a provider that acts
// between a rotation's read and write, and one whose primary key changes from call to call.
#include "store/support.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <map>
#include <set>
#include <stdexcept>
#include <thread>

namespace {

using test::ForwardingProvider;

// Counts the provider calls, to see the DEK cache at work.
class CountingProvider : public ForwardingProvider {
 public:
  using ForwardingProvider::ForwardingProvider;
  std::string primary_key_id() const override {
    ++primaries;
    return ForwardingProvider::primary_key_id();
  }
  datahub::Bytes wrap(const std::string& kid, const datahub::SecretBytes& dek, const datahub::Bytes& aad) const override {
    ++wraps;
    return ForwardingProvider::wrap(kid, dek, aad);
  }
  datahub::SecretBytes unwrap(const std::string& kid, const datahub::Bytes& edk, const datahub::Bytes& aad) const override {
    ++unwraps;
    return ForwardingProvider::unwrap(kid, edk, aad);
  }
  mutable std::atomic<int> primaries{0}, wraps{0}, unwraps{0};
};

// Its primary key id alternates between k1 and k2 from one call to the next, as a host's
// may while it makes a new key primary.
class AlternatingPrimary : public ForwardingProvider {
 public:
  AlternatingPrimary() : ForwardingProvider(test::keyring("k1", {"k1", "k2"})) {}
  std::string primary_key_id() const override { return calls_++ % 2 ? "k2" : "k1"; }

 private:
  mutable std::atomic<int> calls_{0};
};

std::string stored_kid(std::int64_t id) { return test::stored(id, "connection_details->>'kid'"); }
std::string stored_edk(std::int64_t id) { return test::stored(id, "connection_details->>'edk'"); }

}  // namespace

TEST_CASE("the DEK cache reuses a data key up to its use limit, each record still its own content key") {
  test::clear_table();
  auto provider = std::make_shared<CountingProvider>(test::keyring());
  datahub::StoreOptions options;
  options.database = test::database();
  options.keys = provider;
  options.dek_cache.ttl = std::chrono::seconds(60);
  options.dek_cache.max_uses = 3;
  datahub::ConnectionStore store(options);
  std::vector<std::int64_t> ids;
  for (int i = 0; i < 7; ++i) ids.push_back(store.create(test::sample("cached " + std::to_string(i), "pw" + std::to_string(i)), "t").id);
  CHECK(provider->wraps == 3);  // uses 1-3, 4-6, 7

  std::set<std::string> edks, mids;
  for (auto id : ids) {
    edks.insert(stored_edk(id));
    mids.insert(test::stored(id, "connection_details->>'mid'"));
  }
  CHECK(edks.size() == 3);
  CHECK(mids.size() == 7);
  for (std::size_t i = 0; i < ids.size(); ++i)
    CHECK(*store.get(ids[i], datahub::Secrets::reveal).details.find_string("password") == "pw" + std::to_string(i));
  CHECK(provider->unwraps == 3);  // one per distinct wrapped DEK
  CHECK(test::open_store(test::keyring())->verify().failed.empty());  // no cache needed to read
}

TEST_CASE("an edit between a re-wrap's read and its write is kept") {
  test::clear_table();
  // The editor seals under k1. With a DEK cache its edit reuses the row's data key, so the
  // wrapped key stays the same and only the ciphertext changes: the re-wrap's write goes
  // through, and must leave the edit readable. Without one the edit brings a new wrapped
  // key: the write skips the row, and the retry re-wraps the edited row.
  datahub::StoreOptions editor_options;
  editor_options.database = test::database();
  editor_options.keys = test::keyring("k1", {"k1"});
  bool same_data_key = false;
  SUBCASE("the edit keeps the data key (DEK cache)") {
    same_data_key = true;
    editor_options.dek_cache.ttl = std::chrono::seconds(60);
  }
  SUBCASE("the edit brings a new data key") {}
  datahub::ConnectionStore editor(editor_options);
  const auto id = editor.create(test::sample("edited mid-rotation", "before-rotation"), "editor").id;
  const std::string edk_read = stored_edk(id);

  auto hook = std::make_shared<test::WrapWatcher>(test::keyring("k2", {"k1", "k2"}));
  hook->during_first_wrap = [&] {
    datahub::ConnectionPatch p;
    p.details.set("password", "edited-between-read-and-write");
    editor.force_update(id, p, "editor");
    CHECK((stored_edk(id) == edk_read) == same_data_key);
  };
  const auto report = test::open_store(hook)->rotate();
  CHECK(report.rewritten == 1);
  CHECK(report.skipped_changed == 0);
  CHECK(report.failed == 0);

  auto k2_only = test::open_store(test::keyring("k2", {"k2"}));
  const auto read = k2_only->get(id, datahub::Secrets::reveal);
  CHECK(read.key_id == "k2");
  REQUIRE(read.details.find_string("password"));
  CHECK(*read.details.find_string("password") == "edited-between-read-and-write");
}

TEST_CASE("update holds no row lock while the provider wraps, and keeps an edit made meanwhile") {
  // A KMS call can take seconds; every other writer of the row used to wait for it behind
  // update's FOR UPDATE. Inside update's wrap(), another session locks the row with NOWAIT
  // (which fails at once if update holds it) and, if it could, another writer edits it.
  test::clear_table();
  auto editor = test::open_store(test::keyring());
  const auto row = editor->create(test::sample("edited during update", "before-update"), "editor");

  auto hook = std::make_shared<test::WrapWatcher>(test::keyring());
  bool row_was_free = false;
  hook->during_first_wrap = [&] {
    row_was_free = test::row_lock_free(row.id);
    if (!row_was_free) return;  // locked: editing now would wait for the update that waits for us
    datahub::ConnectionPatch meanwhile;
    meanwhile.description = std::optional<std::string>("edited meanwhile");
    meanwhile.details.set("port", std::int64_t{6543});
    editor->force_update(row.id, meanwhile, "other-writer");
  };
  auto updater = test::open_store(hook);
  datahub::ConnectionPatch patch;
  patch.details.set("password", "set-by-update");

  SUBCASE("without a version check both edits are kept") {
    const auto updated = updater->force_update(row.id, patch, "updater");
    CHECK(row_was_free);
    const auto read = editor->get(row.id, datahub::Secrets::reveal);
    CHECK(*read.details.find_string("password") == "set-by-update");
    REQUIRE(read.details.find_integer("port"));
    CHECK(*read.details.find_integer("port") == 6543);
    CHECK(read.description == std::optional<std::string>("edited meanwhile"));
    CHECK(read.updated_by == "updater");
    // What update returns is what it wrote, the other writer's edit included.
    CHECK(updated.description == read.description);
    CHECK(updated.updated_at == read.updated_at);
    REQUIRE(updated.details.find_integer("port"));
    CHECK(*updated.details.find_integer("port") == 6543);
  }
  SUBCASE("with one, the edit made meanwhile is a Conflict, and the row keeps that edit") {
    CHECK_THROWS_AS(updater->update(row.id, patch, "updater", row.updated_at), datahub::Conflict);
    CHECK(row_was_free);
    const auto read = editor->get(row.id, datahub::Secrets::reveal);
    CHECK(*read.details.find_string("password") == "before-update");
    CHECK(read.description == std::optional<std::string>("edited meanwhile"));
    CHECK(read.updated_by == "other-writer");
  }
}

TEST_CASE("update seals once when a writer that got in first left the details as they were") {
  // The other writer edits the row inside update's wrap(): update's write then matches
  // nothing and it tries again. When the envelope it reads again is the one it sealed from,
  // it writes that seal rather than asking the provider again; a details edit, or a new
  // primary key, in between makes it seal again.
  struct SwitchablePrimary : test::WrapWatcher {
    SwitchablePrimary() : WrapWatcher(test::keyring("k1", {"k1", "k2"})) {}
    std::string primary_key_id() const override { return primary; }
    std::string primary = "k1";  // switched on update's own thread, inside its wrap()
  };
  test::clear_table();
  auto editor = test::open_store(test::keyring("k1", {"k1", "k2"}));
  const auto row = editor->create(test::sample("seal once", "before-update"), "editor");
  auto hook = std::make_shared<SwitchablePrimary>();
  auto updater = test::open_store(hook);
  datahub::ConnectionPatch patch;
  patch.details.set("password", "set-by-update");
  datahub::ConnectionPatch meanwhile;
  meanwhile.description = std::optional<std::string>("edited meanwhile");
  int seals = 1;
  std::int64_t port = 6432;  // the sample's
  std::string primary = "k1";

  SUBCASE("the other writer changed the description: one seal") {}
  SUBCASE("the other writer changed the details: a second seal, onto its edit") {
    meanwhile.details.set("port", std::int64_t{6543});
    seals = 2;
    port = 6543;
  }
  SUBCASE("the primary key changed meanwhile: a second seal, under the new primary") {
    seals = 2;
    primary = "k2";
  }
  hook->during_first_wrap = [&] {
    editor->force_update(row.id, meanwhile, "other-writer");
    hook->primary = primary;
  };
  const auto updated = updater->force_update(row.id, patch, "updater");
  CHECK(hook->wraps == seals);
  const auto read = editor->get(row.id, datahub::Secrets::reveal);
  CHECK(*read.details.find_string("password") == "set-by-update");
  CHECK(read.updated_by == "updater");
  CHECK(read.description == meanwhile.description);
  CHECK(read.key_id == primary);
  REQUIRE(read.details.find_integer("port"));
  CHECK(*read.details.find_integer("port") == port);
  // What update returns is what it wrote.
  CHECK(updated.description == read.description);
  CHECK(updated.updated_by == read.updated_by);
  CHECK(updated.key_id == read.key_id);
  CHECK(updated.details == editor->get(row.id).details);  // both redacted
  CHECK(updated.updated_at == read.updated_at);
}

TEST_CASE("create, create_many and update report the key each record was sealed under") {
  test::clear_table();
  auto store = test::open_store(std::make_shared<AlternatingPrimary>());
  std::set<std::string> seen;
  for (int i = 0; i < 4; ++i) {
    const auto c = store->create(test::sample("sealed " + std::to_string(i)), "tester");
    CHECK(c.key_id == stored_kid(c.id));
    seen.insert(c.key_id);
    datahub::ConnectionPatch p;
    p.details.set("password", "changed-" + std::to_string(i));
    const auto updated = store->force_update(c.id, p, "tester");
    CHECK(updated.key_id == stored_kid(c.id));
    seen.insert(updated.key_id);
  }
  for (const auto& c : store->create_many(test::samples("sealed in bulk ", 5), "tester")) {
    CHECK(c.key_id == stored_kid(c.id));
    seen.insert(c.key_id);
  }
  CHECK(seen.size() == 2);  // the provider really did answer both ways
}

TEST_CASE("a write asks the provider for its primary key id once") {
  test::clear_table();
  auto keys = std::make_shared<CountingProvider>(test::keyring("k1", {"k1"}));
  auto store = test::open_store(keys);
  keys->primaries = 0;
  const auto c = store->create(test::sample("asked once"), "tester");
  CHECK(keys->primaries == 1);

  keys->primaries = 0;
  datahub::ConnectionPatch new_password;  // re-sealed: the seal asks
  new_password.details.set("password", "changed");
  store->force_update(c.id, new_password, "tester");
  CHECK(keys->primaries == 1);

  keys->primaries = 0;
  datahub::ConnectionPatch new_name;  // not re-sealed: asked only whether the row is stale
  new_name.name = "renamed";
  store->force_update(c.id, new_name, "tester");
  CHECK(keys->primaries == 1);
  CHECK(store->get(c.id).name == "renamed");
}

TEST_CASE("with the DEK cache on, a slow wrap() for a new data key holds up no read") {
  // A remote KMS takes its time to wrap the next data key. Sealers wait for it (one asks,
  // the others reuse its answer), but a read of a row whose data key is cached has nothing
  // to wait for.
  class SlowWrap : public ForwardingProvider {
   public:
    using ForwardingProvider::ForwardingProvider;
    datahub::Bytes wrap(const std::string& kid, const datahub::SecretBytes& dek, const datahub::Bytes& aad) const override {
      if (slow) {
        entered.set_value();
        release.wait_for(std::chrono::seconds(10));
      }
      return ForwardingProvider::wrap(kid, dek, aad);
    }
    std::atomic<bool> slow{false};
    mutable std::promise<void> entered;
    std::shared_future<void> release;
  };
  test::clear_table();
  auto provider = std::make_shared<SlowWrap>(test::keyring());
  std::promise<void> release;
  provider->release = release.get_future().share();
  datahub::StoreOptions options;
  options.database = test::database();
  options.keys = provider;
  options.dek_cache.ttl = std::chrono::seconds(60);
  options.dek_cache.max_uses = 1;  // the next create needs a new data key
  datahub::ConnectionStore store(options);
  const auto row = store.create(test::sample("read meanwhile", "cached-pw"), "t");
  CHECK(*store.get(row.id, datahub::Secrets::reveal).details.find_string("password") == "cached-pw");

  provider->slow = true;
  auto entered = provider->entered.get_future();
  auto writer = std::async(std::launch::async, [&] { return store.create(test::sample("slow"), "t").id; });
  REQUIRE(entered.wait_for(std::chrono::seconds(5)) == std::future_status::ready);
  auto reader = std::async(std::launch::async, [&] {
    return *store.get(row.id, datahub::Secrets::reveal).details.find_string("password");
  });
  const bool read_meanwhile = reader.wait_for(std::chrono::seconds(2)) == std::future_status::ready;
  release.set_value();
  CHECK(read_meanwhile);
  CHECK(reader.get() == "cached-pw");
  CHECK(writer.get() > row.id);
}

TEST_CASE("the DEK cache under many threads: no data key sealed more than max_uses records") {
  // Eight threads creating at once (some through create_many, whose second batch is sealed
  // on a helper thread): every cached data key is handed out at most max_uses times, one
  // wrap() per data key, and every record has its own message id.
  test::clear_table();
  auto provider = std::make_shared<CountingProvider>(test::keyring());
  datahub::StoreOptions options;
  options.database = test::database();
  options.keys = provider;
  options.pool_size = 8;
  options.dek_cache.ttl = std::chrono::seconds(600);
  options.dek_cache.max_uses = 7;
  datahub::ConnectionStore store(options);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      if (t == 0) {
        store.create_many(test::samples("bulk ", 1500), "t");
      } else {
        for (int i = 0; i < 40; ++i) store.create(test::sample("t" + std::to_string(t) + "-" + std::to_string(i)), "t");
      }
    });
  }
  for (auto& th : threads) th.join();
  const long long rows = 1500 + 7 * 40;
  REQUIRE(test::row_count() == rows);
  std::map<std::string, int> per_edk;
  std::set<std::string> mids;
  soci::rowset<soci::row> stored = (test::admin().prepare <<
      "SELECT connection_details->>'edk', connection_details->>'mid' FROM database_connections");
  for (const auto& r : stored) {
    ++per_edk[r.get<std::string>(0)];
    mids.insert(r.get<std::string>(1));
  }
  int most = 0;
  for (const auto& [edk, n] : per_edk) most = std::max(most, n);
  CHECK(most <= 7);
  CHECK(per_edk.size() == static_cast<std::size_t>((rows + 6) / 7));  // full use of each data key
  CHECK(provider->wraps == static_cast<int>(per_edk.size()));
  CHECK(mids.size() == static_cast<std::size_t>(rows));
  CHECK(test::open_store(test::keyring())->verify().failed.empty());
}

TEST_CASE("a provider that throws its own exception now and then is a failing provider: KeyUnavailable, the page kept, the row counted failed") {
  // A KMS client library's own exception type (not a datahub::Error), thrown by one call
  // in a while. The library reports it as the provider failing, everywhere alike.
  class Flaky : public ForwardingProvider {
   public:
    using ForwardingProvider::ForwardingProvider;
    datahub::SecretBytes unwrap(const std::string& kid, const datahub::Bytes& edk, const datahub::Bytes& aad) const override {
      if (fail_next.exchange(false)) throw std::runtime_error("kms: throttled");
      return ForwardingProvider::unwrap(kid, edk, aad);
    }
    mutable std::atomic<bool> fail_next{false};
  };
  test::clear_table();
  auto old_store = test::open_store(test::keyring("k1", {"k1"}));
  std::vector<std::int64_t> ids;
  for (int i = 0; i < 3; ++i) ids.push_back(old_store->create(test::sample("flaky " + std::to_string(i)), "t").id);
  auto flaky = std::make_shared<Flaky>(test::keyring("k2", {"k1", "k2"}));
  auto store = test::open_store(flaky);

  flaky->fail_next = true;
  datahub::Page page;
  CHECK_NOTHROW(page = store->list({}));
  REQUIRE(page.items.size() == 3);
  REQUIRE(page.items[0].error);
  CHECK(page.items[0].error->code == datahub::ErrorCode::key_unavailable);
  CHECK_FALSE(page.items[1].error);

  flaky->fail_next = true;
  CHECK_THROWS_AS(store->get(ids[1]), datahub::KeyUnavailable);

  flaky->fail_next = true;
  datahub::RotateReport report;
  CHECK_NOTHROW(report = store->rotate());
  CHECK(report.failed == 1);
  CHECK(report.rewritten == 2);
  CHECK(store->rotate().rewritten == 1);  // rerun, as documented
  CHECK(store->verify().failed.empty());
}

namespace {

// A broken KMS adapter: wrap() under `bad_kid` returns bytes that unwrap to nothing useful,
// or that unwrap to another data key; or unwrap() returns a data key of the wrong length.
class BrokenProvider : public ForwardingProvider {
 public:
  using ForwardingProvider::ForwardingProvider;
  datahub::Bytes wrap(const std::string& kid, const datahub::SecretBytes& dek, const datahub::Bytes& aad) const override {
    if (other_key_wrap && kid == bad_kid) return ForwardingProvider::wrap(kid, datahub::SecretBytes(32, 0x5a), aad);
    datahub::Bytes edk = ForwardingProvider::wrap(kid, dek, aad);
    if (garbage_wrap && kid == bad_kid) edk.back() ^= 1;  // unwrap now fails its tag check
    return edk;
  }
  datahub::SecretBytes unwrap(const std::string& kid, const datahub::Bytes& edk, const datahub::Bytes& aad) const override {
    datahub::SecretBytes dek = ForwardingProvider::unwrap(kid, edk, aad);
    if (long_unwrap) dek.resize(59, 0x41);
    return dek;
  }
  std::string bad_kid = "k2";
  std::atomic<bool> garbage_wrap{false}, other_key_wrap{false}, long_unwrap{false};
};

}  // namespace

TEST_CASE("a rotation never replaces a row's data key with one that does not open") {
  // Found from a ctypes client: an unwrap() returning 59 bytes made rotate() wrap them
  // under the new key over the row's only copy, reporting it rewritten; the row never
  // opened again. A wrap() whose result does not unwrap did the same.
  test::clear_table();
  const std::int64_t id = test::open_store(test::keyring("k1", {"k1"}))->create(test::sample("broken kms"), "t").id;
  const std::string edk_before = stored_edk(id);
  auto broken = std::make_shared<BrokenProvider>(test::keyring("k2", {"k1", "k2"}));
  auto store = test::open_store(broken);

  const auto rotation_fails_the_row = [&] {
    for (bool reencrypt : {false, true}) {
      datahub::RotateOptions options;
      options.reencrypt = reencrypt;
      const auto report = store->rotate(options);
      CHECK(report.failed == 1);
      CHECK(report.rewritten == 0);
    }
  };
  SUBCASE("unwrap returns a data key of the wrong length") {
    broken->long_unwrap = true;
    CHECK_THROWS_AS(store->get(id), datahub::KeyUnavailable);  // the provider's fault, not the row's
    rotation_fails_the_row();
  }
  SUBCASE("wrap returns bytes that do not unwrap") {
    broken->garbage_wrap = true;
    rotation_fails_the_row();
  }
  SUBCASE("wrap returns another data key's wrapped bytes (they unwrap, to the wrong key)") {
    broken->other_key_wrap = true;
    rotation_fails_the_row();
  }
  CHECK(stored_kid(id) == "k1");
  CHECK(stored_edk(id) == edk_before);
  broken->long_unwrap = false;
  broken->garbage_wrap = false;
  broken->other_key_wrap = false;
  const auto opened = store->get(id, datahub::Secrets::reveal);
  REQUIRE(opened.details.find_string("password") != nullptr);
  CHECK(*opened.details.find_string("password") == *test::sample("x").details.find_string("password"));
  CHECK(store->rotate().rewritten == 1);  // the provider fixed, the row moves
  CHECK(store->verify().failed.empty());
}

TEST_CASE("reads do not need the provider's primary key id") {
  // A KMS whose primary-key lookup is down still unwraps: get and list work, the row not
  // called stale; writes, which need the primary, fail with KeyUnavailable.
  class NoPrimary : public ForwardingProvider {
   public:
    using ForwardingProvider::ForwardingProvider;
    std::string primary_key_id() const override {
      if (down) throw datahub::KeyUnavailable("kms: primary lookup down");
      return ForwardingProvider::primary_key_id();
    }
    std::atomic<bool> down{false};
  };
  test::clear_table();
  auto provider = std::make_shared<NoPrimary>(test::keyring("k1", {"k1"}));
  auto store = test::open_store(provider);
  const auto created = store->create(test::sample("no primary"), "t");
  provider->down = true;
  datahub::Connection got;
  CHECK_NOTHROW(got = store->get(created.id));
  CHECK_FALSE(got.stale);
  CHECK(got.key_id == "k1");
  const auto page = store->list({});
  REQUIRE(page.items.size() == 1);
  CHECK_FALSE(page.items[0].error);
  CHECK_THROWS_AS(store->create(test::sample("refused"), "t"), datahub::KeyUnavailable);
}
