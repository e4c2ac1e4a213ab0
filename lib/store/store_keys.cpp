// ConnectionStore: census and verify (rotate is in store_rotate.cpp).
#include "store/rows.hpp"
#include "store/sql_error.hpp"
#include "store/store_impl.hpp"

#include <datahub/error.hpp>

#include <limits>

namespace datahub {

KeyCensus ConnectionStore::census() {
  KeyCensus census;
  census.primary_key_id = crypto::checked_primary_key_id(*impl_->options.keys);
  try {
    auto lease = impl_->pool.lease();
    // One pass over the table, decrypting nothing. (No index on the key id: one would make
    // every rewrite of connection_details a non-HOT update, see migration 4.) Rows without
    // a key id (another client's, in clear or damaged) are counted under "": an operator
    // checking that only the new key is left must see them.
    soci::rowset<soci::row> rows = (lease.session().prepare <<
        "SELECT COALESCE(connection_details->>'kid', '') AS kid, COALESCE(connection_details->>'alg', '') AS alg,"
        " count(*) FROM database_connections GROUP BY 1, 2 ORDER BY 1, 2");
    for (const auto& r : rows) {
      census.keys.push_back({r.get<std::string>(0), r.get<std::string>(1), r.get<long long>(2)});
    }
  } catch (...) {
    store::rethrow_as_datahub_error("census");
  }
  return census;
}

VerifyReport ConnectionStore::verify(std::size_t batch_size) {
  if (batch_size < 1 || batch_size > 10000) throw InvalidArgument("batch_size", "must be 1 to 10000");
  VerifyReport report;
  try {
    long long after = std::numeric_limits<long long>::min();  // another client's ids may be 0 or negative
    for (;;) {
      std::vector<store::SealedRow> rows;
      {
        auto lease = impl_->pool.lease();
        store::Params p;
        std::string where = "id > CAST(" + p.add(after) + " AS bigint) ORDER BY id LIMIT CAST(";
        where += p.add(static_cast<long long>(batch_size)) + " AS integer)";
        rows = store::read_sealed(lease, where, p, "verify");
      }
      if (rows.empty()) break;
      after = rows.back().id;
      for (const auto& row : rows) {
        ++report.checked;
        try {
          impl_->codec.open(row.envelope, row.id);
        } catch (const Error& e) {
          report.failed.push_back({row.id, e.code(), e.what()});
        }
      }
    }
  } catch (...) {
    store::rethrow_as_datahub_error("verify");
  }
  return report;
}

}  // namespace datahub
