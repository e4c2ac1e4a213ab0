// Between stored rows and Connection records: sealing, opening and redacting details.
#pragma once

#include "crypto/sealer.hpp"
#include "store/rows.hpp"

#include <datahub/connection.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace datahub::store {

class RecordCodec {
 public:
  RecordCodec(std::shared_ptr<const KeyProvider> keys, const std::string& cipher_name,
              crypto::DekCachePolicy cache = {});

  // The envelope JSON for `details` sealed to row `id`. `key_id` receives the key it was
  // sealed under when not null (asked of the provider once, with the seal).
  std::string seal(const Details& details, std::int64_t id, std::string* key_id = nullptr) const;

  // Opens a stored envelope. Throws Integrity or KeyUnavailable. `envelope` receives the
  // parsed envelope when not null.
  Details open(const std::string& envelope_json, std::int64_t id,
               crypto::Envelope* envelope = nullptr) const;

  // The record for a row. With `keep_errors`, a row that fails to open comes back with
  // `error` set; without it the failure is thrown.
  Connection to_connection(const StoredRow& row, Secrets secrets, bool keep_errors) const;

  // The envelope moved under the primary key: its DEK re-wrapped, or with `reencrypt`
  // the details opened and sealed afresh (under the store's cipher). Either way the new
  // wrapped key is checked to unwrap to the DEK before it is returned: it replaces the
  // row's only copy. Throws like open().
  std::string rotate(const std::string& envelope_json, std::int64_t id, bool reencrypt) const;

  // A stored envelope's "kid" and "edk" (as text, "edk" in base64) moved under the primary
  // key, for a re-wrap that rewrites those two members and leaves the rest as stored.
  // Throws Integrity or KeyUnavailable. With a host's key provider the row's whole
  // envelope is parsed and its ciphertext opened with the unwrapped DEK before that DEK is
  // wrapped again: an unwrap() that gives a wrong (well-formed) key must not replace the
  // row's only wrapped copy of its own. Our keyring's unwrap cannot (an AES-GCM open under
  // the key's KEK), so with it only the row's v, kid and edk are read: a row whose other
  // members were damaged moves too, and still fails to open (verify() names it).
  struct MovedKey {
    std::string kid;
    std::string edk;  // base64
  };
  bool rewrap_reads_envelope() const noexcept { return sealer_.rewrap_reads_ciphertext(); }
  MovedKey rewrap_key(const WrappedKeyRow& row) const;

  const KeyProvider& keys() const noexcept { return sealer_.keys(); }
  const std::string& cipher_name() const noexcept { return sealer_.cipher_name(); }

 private:
  bool is_stale(const std::string& kid) const;

  crypto::Sealer sealer_;
};

// Tags travel to the server as one JSON array parameter, expanded there.
std::string tags_to_json(const std::vector<std::string>& tags);
std::vector<std::string> tags_from_json(const std::string& json);
// A PostgreSQL text[] literal, every element double-quoted with '"' and '\' escaped: tags
// for searches (where the planner must see the values to estimate them) and for COPY.
std::string text_array_literal(const std::vector<std::string>& values);

// Removes the secret fields unless revealing; returns the names of those removed.
std::vector<std::string> redact(Details& details, const std::string& type);

}  // namespace datahub::store
