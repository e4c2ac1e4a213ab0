// KeyProvider: holds the key-encryption keys (KEKs) that wrap each record's data key.
//
// The store never sees a KEK: it asks the provider to wrap a fresh 32-byte data key (DEK)
// under the primary key, and to unwrap a DEK under the key id stored in the envelope.
// Implementations must be thread-safe; the store calls them from many threads at once,
// including a helper thread of create_many's own (not the caller's). An exception that is
// not a datahub::Error (a KMS client's own type; std::bad_alloc aside) is reported as
// KeyUnavailable, like any other failure of the provider; so is any datahub::Error but
// KeyUnavailable, and Integrity from unwrap(). The message of those two reaches the
// store's callers (a list's row error, a log line): never put key material in it.
// A cloud KMS plugs in by implementing this interface (or, from C, Python and Go, through
// the callback provider of the C ABI).
#pragma once

#include <datahub/bytes.hpp>
#include <datahub/export.hpp>

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace datahub {

class DATAHUB_API KeyProvider {
 public:
  virtual ~KeyProvider();

  // The id new records are sealed under. Ids are opaque labels, never derived from keys.
  // Writes, census and rotate need it; reads do not (a failure makes a record not stale).
  virtual std::string primary_key_id() const = 0;

  // Encrypts `dek` under key `key_id`, bound to `aad`. Throws KeyUnavailable. The result
  // must be 1 byte to 64 KiB and unwrap to `dek` again: every write unwraps a new wrapped
  // key once before storing it (once per data key with the DEK cache), so a wrap that does
  // not round-trip fails the write instead of storing a record that never opens. Writes
  // therefore need a working unwrap() too.
  virtual Bytes wrap(const std::string& key_id, const SecretBytes& dek, const Bytes& aad) const = 0;

  // Reverses wrap(). Throws KeyUnavailable when the key is unknown or unusable, and
  // Integrity when `edk` or `aad` was altered. A result that is not 32 bytes is taken as
  // the provider failing (KeyUnavailable). A rotation opens each row's ciphertext with the
  // key a host's provider returns before wrapping it again, so a wrong key never replaces a
  // row's own (StaticKeyring's AES-GCM unwrap cannot return a wrong key: not checked).
  virtual SecretBytes unwrap(const std::string& key_id, const Bytes& edk, const Bytes& aad) const = 0;
};

// Keys held in memory. Wraps with AES-256/GCM under a key derived from each KEK with HKDF.
class DATAHUB_API StaticKeyring final : public KeyProvider {
 public:
  using Key = std::pair<std::string, SecretBytes>;  // (key id, key material of >= 32 bytes)

  // Throws InvalidArgument for an empty key list, an id (or primary id) that is not 1-128
  // characters of [A-Za-z0-9._:/-], a duplicate id, a key shorter than 32 bytes, or a
  // primary id that is not among the keys. Messages name a key by its position ("entry 2"),
  // never by its id: a swapped id and key would put key material there.
  StaticKeyring(std::string primary_key_id, std::vector<Key> keys);
  ~StaticKeyring() override;

  // Reads "kid1:base64,kid2:base64" from an environment variable; the first key is the
  // primary. Throws InvalidArgument naming the variable (never echoing a key) when it is
  // missing or malformed.
  static std::shared_ptr<StaticKeyring> from_environment(
      const char* variable = "DATAHUB_CONNECTIONS_KEYS");

  // Parses the same "kid:base64,..." format from a string.
  static std::shared_ptr<StaticKeyring> from_string(const std::string& keys,
                                                    const std::string& source = "keys");

  // Reads a keyring file: {"primary": "k2", "keys": {"k1": "<base64>", "k2": "<base64>"}}.
  // The whole file must be that one JSON object: valid UTF-8, nothing after it (not even a
  // NUL byte), "primary" and "keys" once each, ids as in the constructor. Refused
  // (InvalidArgument naming the path) when group or others may read it, when another user
  // than the process's (or root) owns it, when it is not a
  // regular file (a symlink, a FIFO or a device is refused at once, never waited on), or
  // when it breaks those rules or a key is malformed or shorter than 32 bytes.
  static std::shared_ptr<StaticKeyring> from_file(const std::string& path);

  std::string primary_key_id() const override;
  Bytes wrap(const std::string& key_id, const SecretBytes& dek, const Bytes& aad) const override;
  SecretBytes unwrap(const std::string& key_id, const Bytes& edk, const Bytes& aad) const override;

  std::vector<std::string> key_ids() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace datahub
