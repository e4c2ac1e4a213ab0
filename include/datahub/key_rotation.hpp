// What the key-management calls of ConnectionStore take and report.
//
// Rotation: add the new key to every instance's keyring, make it primary, then rotate()
// rewrites each row still under another key. census() tells how many rows each key still
// protects; verify() proves every row opens. See docs/key-management.md for the runbook.
// A store's KeyProvider is fixed when it opens and a StaticKeyring cannot change, so with
// one "add" means opening each instance's store again (a restart) with a keyring that holds
// both keys and names the new one primary; a host's KeyProvider may switch while running.
#pragma once

#include <datahub/error.hpp>
#include <datahub/export.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace datahub {

struct KeyCensusEntry {
  std::string key_id;  // "" for rows with no key id: not sealed by this library (verify names them)
  std::string alg;
  std::int64_t rows = 0;
};

struct KeyCensus {
  std::string primary_key_id;         // the key new records are sealed under
  std::vector<KeyCensusEntry> keys;   // by key id, then alg
};

struct RotateReport {
  // Rows looked at: those under a non-primary key (with reencrypt, also another cipher).
  // scanned = rewritten + skipped_changed + failed: a row another writer deleted, or moved
  // to the primary, while the rotation had it in hand is not counted.
  std::int64_t scanned = 0;
  std::int64_t rewritten = 0;        // rows moved to the primary key (in a dry run: would be)
  std::int64_t skipped_changed = 0;  // rows edited concurrently on every retry; run again
  // Rows left as they were: their data key could not be unwrapped (its key is not in the
  // keyring, or the envelope's version, key id or wrapped key is damaged), could not be
  // wrapped again under the primary key (the provider failed, or its wrap did not
  // round-trip), or, with a host's KeyProvider, did not open the row's ciphertext (a damaged
  // row, a provider's wrong key); re-encrypting, also when what was sealed afresh did not
  // open to the same details (a cipher of the host's, register_cipher). StaticKeyring's unwrap cannot return a wrong key, so with
  // it only v, kid and edk are read, and a row whose other members alone were damaged (or
  // added, or missing) is re-wrapped and still fails to open.
  // verify() names every such row.
  std::int64_t failed = 0;
  std::int64_t remaining_estimate = 0;  // rows to rotate, counted when the run started
};

struct RotateOptions {
  // A batch is a range of this many consecutive ids, 1-10000, written in one transaction
  // (rows that changed under us are retried in more); it holds fewer rows to rotate where
  // ids are missing or rows are already under the primary.
  std::size_t batch_size = 500;
  bool dry_run = false;          // read and re-wrap in memory, write nothing
  // Re-encrypt fully with a fresh DEK under the store's cipher, rather than re-wrapping
  // the DEK only. Also selects rows sealed with another cipher, moving them over.
  bool reencrypt = false;
  // Re-reads of a row that changed under us before giving up on it, 0-100.
  int retries = 3;
  // Batches in flight at once, 1-16. A worker holds a pooled session only for a statement,
  // never while the key provider unwraps and wraps, so workers may outnumber pool_size
  // (with a slow KMS, more workers than sessions keep the sessions busy). The extra
  // workers are threads of the library, and call the key provider too; batches are still
  // taken in id order and each commits on its own. On the 2-core benchmark machine 2
  // workers cut a large rotation's time by about half (docs/benchmarks.md); 1 leaves the
  // rest of the pool to other calls.
  int workers = 1;
  // Called on the calling thread after every batch it finished, with the totals of all
  // workers so far, and once more at the end if other workers finished batches after
  // that. An exception it throws stops the rotation (batches already written stay
  // written; other workers finish the batch they hold) and propagates to the caller;
  // if other workers then wrote batches, it is first called once more with the final
  // totals (an exception from that call is ignored).
  std::function<void(const RotateReport&)> progress;
};

struct VerifyFailure {
  std::int64_t id = 0;
  ErrorCode code = ErrorCode::ok;  // integrity or key_unavailable
  std::string message;
};

struct VerifyReport {
  std::int64_t checked = 0;
  std::vector<VerifyFailure> failed;
};

// The reports as compact JSON, the shapes the C ABI returns (dhc_keys_census, _rotate,
// _verify; codes are dhc_code numbers):
//   {"primary": "k2", "keys": [{"kid": "k1", "alg": "A256GCM", "rows": 10}, ...]}
//   {"scanned": n, "rewritten": n, "skipped_changed": n, "failed": n, "remaining_estimate": n}
//   {"checked": n, "failed": [{"id": n, "code": n, "message": "..."}, ...]}
DATAHUB_API std::string to_json(const KeyCensus& census);
DATAHUB_API std::string to_json(const RotateReport& report);
DATAHUB_API std::string to_json(const VerifyReport& report);

}  // namespace datahub
