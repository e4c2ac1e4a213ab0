// Between stored rows and Connection records: sealing, opening and redacting details.
#pragma once

#include "crypto/sealer.hpp"
#include "store/rows.hpp"

#include <datahub/connection.hpp>

#include <memory>
#include <string>
#include <vector>

namespace datahub::store {

class RecordCodec {
 public:
  RecordCodec(std::shared_ptr<const KeyProvider> keys, const std::string& cipher_name,
              crypto::DekCachePolicy cache = {});

  // The envelope JSON for `details` sealed to row `id`.
  std::string seal(const Details& details, std::int64_t id) const;

  // Opens a stored envelope. Throws Integrity or KeyUnavailable. `envelope` receives the
  // parsed envelope when not null.
  Details open(const std::string& envelope_json, std::int64_t id,
               crypto::Envelope* envelope = nullptr) const;

  // The record for a row. With `keep_errors`, a row that fails to open comes back with
  // `error` set; without it the failure is thrown.
  Connection to_connection(const StoredRow& row, Secrets secrets, bool keep_errors) const;

  // The envelope moved under the primary key: its DEK re-wrapped, or with `reencrypt`
  // the details opened and sealed afresh (under the store's cipher). Throws like open().
  std::string rotate(const std::string& envelope_json, std::int64_t id, bool reencrypt) const;

  const KeyProvider& keys() const noexcept { return sealer_.keys(); }
  const std::string& cipher_name() const noexcept { return sealer_.cipher_name(); }

 private:
  crypto::Sealer sealer_;
};

// Tags travel to the server as one JSON array parameter, expanded there.
std::string tags_to_json(const std::vector<std::string>& tags);
std::vector<std::string> tags_from_json(const std::string& json);
// A PostgreSQL text[] literal, every element double-quoted with '"' and '\' escaped, for
// searches, where the planner must see the values to estimate them.
std::string tags_to_array_literal(const std::vector<std::string>& tags);

// Removes the secret fields unless revealing; returns the names of those removed.
std::vector<std::string> redact(Details& details, const std::string& type);

}  // namespace datahub::store
