// The SQL side of ConnectionStore::restore: one leased session, one transaction with the
// table locked, rows streamed with COPY a batch at a time. Records come checked and sealed.
// Dropped uncommitted, it rolls back: nothing it wrote remains.
#pragma once

#include "store/session_pool.hpp"

#include <datahub/connection.hpp>

#include <soci/soci.h>

#include <cstddef>
#include <optional>
#include <string>

namespace datahub::store {

class RestoreWriter {
 public:
  // Leases a session, begins, and locks out other writers until the end (the taken-id
  // check and the sequence must agree with what is written). Throws Unavailable, Database.
  explicit RestoreWriter(SessionPool& pool);
  RestoreWriter(const RestoreWriter&) = delete;
  RestoreWriter& operator=(const RestoreWriter&) = delete;

  // Writes `count` records, `envelopes[i]` being records[i]'s sealed details. Throws
  // Conflict naming the first id already in the table (an earlier batch's included) or
  // given twice among these; the transaction is then unusable, drop the writer.
  void write(const Connection* records, const std::string* envelopes, std::size_t count);

  // Moves the id sequence past the highest id in the table (never back) and commits.
  void commit();

 private:
  SessionPool::Lease lease_;
  std::optional<soci::transaction> tx_;  // after lease_: rolled back before the session goes back
};

}  // namespace datahub::store
