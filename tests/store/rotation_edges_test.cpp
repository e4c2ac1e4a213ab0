// Rotation at its edges, from review: more workers than sessions with a slow provider,
// rows other writers settle meanwhile, rows other clients wrote (ids of 0 or below, no key
// id), and a host's cipher that does not open what it sealed.
#include "store/key_rows.hpp"
#include "store/support.hpp"

#include <datahub/cipher.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <map>

using test::populate;
using test::rows_per_key;

TEST_CASE("more workers than sessions, with a slow provider: no session is held while the provider works") {
  // Each worker held its session for the whole batch, provider calls included: with one
  // session the second worker waited out acquire_timeout and the rotation failed.
  test::clear_table();
  populate(test::keyring("k1", {"k1"}), 300);
  datahub::StoreOptions options;
  options.database = test::database();
  options.keys = std::make_shared<test::WrapWatcher>(test::keyring("k2", {"k1", "k2"}), std::chrono::milliseconds(10));
  options.pool_size = 1;
  options.acquire_timeout = std::chrono::seconds(1);
  datahub::ConnectionStore store(options);
  datahub::RotateOptions rotate;
  rotate.batch_size = 150;  // 1.5 s of provider calls per batch
  rotate.workers = 2;
  const auto report = store.rotate(rotate);
  CHECK(report.rewritten == 300);
  CHECK(rows_per_key(store) == std::map<std::string, std::int64_t>{{"k2/A256GCM", 300}});
}

TEST_CASE("rows another writer settles or deletes during a rotation are counted in no outcome, nor scanned") {
  // They were counted skipped_changed ("run again") with retries 0, and scanned with no
  // outcome otherwise.
  auto rotating_provider = std::make_shared<test::WrapWatcher>(test::keyring("k2", {"k1", "k2"}));
  test::clear_table();
  const auto ids = populate(test::keyring("k1", {"k1"}), 50);
  auto writer = test::open_store(test::keyring("k2", {"k1", "k2"}));
  rotating_provider->during_first_wrap = [&] {  // the batch is read, nothing written yet
    datahub::ConnectionPatch patch;
    patch.details.set("password", "settled under k2 meanwhile");
    writer->force_update(ids[10], patch, "writer");
    writer->remove(ids[20]);
  };
  datahub::RotateOptions options;
  SUBCASE("no retries") { options.retries = 0; }
  SUBCASE("retries") { options.retries = 3; }
  const auto report = test::open_store(rotating_provider)->rotate(options);
  CHECK(report.skipped_changed == 0);
  CHECK(report.rewritten == 48);
  CHECK(report.scanned == report.rewritten + report.skipped_changed + report.failed);
  CHECK(rows_per_key(*writer) == std::map<std::string, std::int64_t>{{"k2/A256GCM", 49}});
}

TEST_CASE("rows other clients wrote with ids of 0 or below, or with no key id, are rotated, verified and counted") {
  // Rotate and verify started after id 0, so such rows stayed on the old key for good, and
  // census left out rows with no key id (a password in clear among them).
  test::clear_table();
  const auto ids = populate(test::keyring("k1", {"k1"}), 3);
  test::admin() << "UPDATE database_connections SET id = 0 WHERE id = :id", soci::use(ids[0]);
  test::admin() << "UPDATE database_connections SET id = -5 WHERE id = :id", soci::use(ids[1]);
  test::admin() << "INSERT INTO database_connections (name, type, connection_details, created_by, updated_by) "
                   "VALUES ('legacy', 'POSTGRESQL', '{\"host\": \"h\", \"password\": \"LEGACY-MARKER\"}', 'x', 'x')";
  auto store = test::open_store(test::keyring("k2", {"k1", "k2"}));
  CHECK(rows_per_key(*store) == std::map<std::string, std::int64_t>{{"/", 1}, {"k1/A256GCM", 3}});
  const auto report = store->rotate();
  CHECK(report.rewritten == 3);
  CHECK(report.failed == 1);  // the row with no key id
  CHECK(rows_per_key(*store) == std::map<std::string, std::int64_t>{{"/", 1}, {"k2/A256GCM", 3}});
  CHECK(store->verify().checked == 4);
}

TEST_CASE("a re-encryption under a host's cipher that opens to other bytes than it sealed leaves every row as it was") {
  // The re-encryption wrote such a cipher's envelopes over the rows' only copies, and they
  // never opened to their passwords again (helper-45). Only the password's bytes change
  // here, so the details still parse: the check compares what they open to.
  class Garbling : public datahub::Cipher {
   public:
    std::string name() const override { return "GARBLE"; }
    std::size_t key_length() const override { return inner_->key_length(); }
    std::size_t nonce_length() const override { return inner_->nonce_length(); }
    datahub::Bytes seal(const datahub::SecretBytes& key, const datahub::Bytes& nonce,
                        const datahub::SecretBytes& plaintext, const datahub::Bytes& aad) const override {
      datahub::SecretBytes changed = plaintext;
      const std::string marker = "initial-";
      const auto at = std::search(changed.begin(), changed.end(), marker.begin(), marker.end());
      if (at != changed.end()) at[6] = 'X';
      return inner_->seal(key, nonce, changed, aad);
    }
    datahub::SecretBytes open(const datahub::SecretBytes& key, const datahub::Bytes& nonce,
                              const datahub::Bytes& ciphertext, const datahub::Bytes& aad) const override {
      return inner_->open(key, nonce, ciphertext, aad);
    }

   private:
    std::shared_ptr<const datahub::Cipher> inner_ = datahub::find_cipher("A256GCM");
  };
  test::clear_table();
  const auto ids = populate(test::keyring("k1", {"k1"}), 20);
  datahub::register_cipher(std::make_shared<Garbling>());
  datahub::RotateOptions options;
  options.reencrypt = true;
  const auto report = test::open_store(test::keyring("k2", {"k1", "k2"}), "GARBLE")->rotate(options);
  CHECK(report.rewritten == 0);
  CHECK(report.failed == 20);
  CHECK(test::store().verify().failed.empty());
  CHECK(*test::store().get(ids[3], datahub::Secrets::reveal).details.find_string("password") == "initial-3");
}
