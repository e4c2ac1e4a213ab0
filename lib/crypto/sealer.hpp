// Sealer: seals a record's details into an envelope bound to its row, and opens it.
//
// Per record: a fresh 32-byte DEK wrapped by the key provider, a fresh 32-byte message id
// (mid), content key = HKDF-SHA256(DEK, salt = mid, info = label || alg), and associated
// data = length-prefixed (label, table, row id, v, alg, mid). A ciphertext moved to another
// row, or an envelope with any field changed, fails to open.
#pragma once

#include "crypto/dek_cache.hpp"
#include "crypto/envelope.hpp"

#include <datahub/cipher.hpp>
#include <datahub/key_provider.hpp>

#include <cstdint>
#include <memory>

namespace datahub::crypto {

class Sealer {
 public:
  // Throws InvalidArgument when `cipher_name` is not registered.
  Sealer(std::shared_ptr<const KeyProvider> keys, const std::string& cipher_name,
         DekCachePolicy cache = {});

  Envelope seal(const SecretBytes& plaintext, std::int64_t row_id) const;

  // Throws Integrity (tampered, swapped, unknown alg or v) or KeyUnavailable.
  SecretBytes open(const Envelope& envelope, std::int64_t row_id) const;

  // The same envelope with its DEK re-wrapped under the primary key: mid, nonce and
  // ciphertext are unchanged (the content's associated data does not name the KEK). When
  // rewrap_reads_ciphertext(), the unwrapped DEK is checked to open the ciphertext (bound
  // to row `row_id`) first; otherwise only the envelope's v, kid and edk are read. The new
  // wrapped key is checked to unwrap to the DEK again. Throws like open().
  Envelope rewrap(const Envelope& envelope, std::int64_t row_id) const;
  bool rewrap_reads_ciphertext() const noexcept { return rewrap_opens_ciphertext_; }

  const KeyProvider& keys() const noexcept { return *keys_; }
  const std::string& cipher_name() const noexcept { return cipher_name_; }

 private:
  // The cipher of `envelope`, checked against its "v" and nonce. Throws Integrity.
  std::shared_ptr<const Cipher> cipher_for(const Envelope& envelope) const;

  std::shared_ptr<const KeyProvider> keys_;
  std::shared_ptr<const Cipher> cipher_;
  std::string cipher_name_;
  mutable DekCache cache_;
  // Whether a re-wrap must open the row's ciphertext to trust what unwrap() returned: yes
  // for a host's provider, no for our own keyring (see the constructor).
  bool rewrap_opens_ciphertext_;
};

// The provider's primary key id, unchecked; like every provider call made here, a foreign
// exception from the provider is reported as KeyUnavailable.
std::string primary_key_id(const KeyProvider& keys);

// The provider's primary key id, checked against the key-id rule (key_id.hpp): a host's odd
// id would otherwise seal rows that never open again, or reach reports unchecked. Throws
// KeyUnavailable, without echoing the id.
std::string checked_primary_key_id(const KeyProvider& keys);

// The associated data that wraps a DEK under `kid`.
Bytes dek_associated_data(const std::string& kid);

}  // namespace datahub::crypto
