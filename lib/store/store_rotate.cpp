// ConnectionStore::rotate: every row onto the primary key, online, in batches, by one or
// more workers.
#include "store/rotate_sql.hpp"
#include "store/rows.hpp"
#include "store/sql_error.hpp"
#include "store/store_impl.hpp"

#include <datahub/error.hpp>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <atomic>
#include <exception>
#include <future>
#include <limits>
#include <mutex>
#include <optional>

namespace datahub {
namespace {

using store::SealedRow;
using store::WrappedKeyRow;

// Re-encrypting: the whole new envelope, and what the row held when read.
struct Rewrite {
  long long id;
  std::string mid, edk;  // of the envelope read
  long long updated_us;  // as read
  std::string new_envelope;
};

// Re-wrapping: only the envelope's "kid" and "edk" change.
struct KeyMove {
  long long id;
  std::string kid, edk;  // as read
  std::string new_kid, new_edk;
};

std::string to_json(const std::vector<Rewrite>& rewrites) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartArray();
  for (const auto& r : rewrites) {
    w.StartObject();
    w.Key("id");
    w.Int64(r.id);
    w.Key("mid");
    w.String(r.mid.c_str(), static_cast<rapidjson::SizeType>(r.mid.size()));
    w.Key("edk");
    w.String(r.edk.c_str(), static_cast<rapidjson::SizeType>(r.edk.size()));
    w.Key("updated_us");
    w.Int64(r.updated_us);
    w.Key("new");  // an object, not a string: the server parses it once
    w.RawValue(r.new_envelope.c_str(), r.new_envelope.size(), rapidjson::kObjectType);
    w.EndObject();
  }
  w.EndArray();
  return {buffer.GetString(), buffer.GetSize()};
}

std::vector<long long> written_ids(const PGresult* result) {
  std::vector<long long> written(static_cast<std::size_t>(PQntuples(result)));
  for (std::size_t i = 0; i < written.size(); ++i) written[i] = store::integer(result, static_cast<int>(i), 0);
  return written;
}

// Writes a re-encrypted batch in one statement. The whole envelope is replaced, so a row is
// written only if it is unchanged since it was read: the same updated_at (every update
// moves it), message id (every seal draws a fresh one) and wrapped key (every re-wrap makes
// a new one). Comparing these is much cheaper than comparing whole envelopes.
// Returns the ids written.
std::vector<long long> write_batch(const store::SessionPool::Lease& lease, const std::vector<Rewrite>& rewrites) {
  store::Params p;
  const std::string batch = p.add(to_json(rewrites));
  const auto result = store::exec(lease,
      "UPDATE database_connections AS t SET connection_details = v.new "
      "FROM jsonb_to_recordset(CAST(" + batch + " AS jsonb)) "
      "AS v(id integer, mid text, edk text, updated_us bigint, new jsonb) "
      "WHERE t.id = v.id AND t.connection_details->>'mid' = v.mid AND t.connection_details->>'edk' = v.edk "
      "AND " + store::micros_since_epoch("t.updated_at") + " = v.updated_us "
      "RETURNING CAST(t.id AS bigint)", p, "rotate");
  return written_ids(result.get());
}

// Writes a re-wrapped batch in one statement: each row's "kid" and "edk" replaced in place,
// the other members kept as stored. A row is written only if its key id and wrapped key are
// still the ones read. That is enough: the new wrapped key holds the same DEK, whatever
// else changed meanwhile (an edit seals with a new DEK, so a new wrapped key, unless a DEK
// cache reuses one; then the DEK is the same too). The key id is compared as well because
// a provider's wrapped keys need only be unique under one key id. The statement carries a
// few short strings per row, not whole envelopes, and the server parses no JSON.
// Returns the ids written.
std::vector<long long> write_batch(const store::SessionPool::Lease& lease, const std::vector<KeyMove>& moves) {
  // Comma-separated columns, split by the server (cheaper for it than array literals). No
  // value holds a comma: ids are digits, key ids are checked against their alphabet, and
  // wrapped keys are canonical base64 (checked when read, or made here).
  std::string ids, kids, edks, new_kids, new_edks;
  for (const auto& m : moves) {
    const char* separator = ids.empty() ? "" : ",";
    ids += separator + std::to_string(m.id);
    (kids += separator) += m.kid;
    (edks += separator) += m.edk;
    (new_kids += separator) += m.new_kid;
    (new_edks += separator) += m.new_edk;
  }
  store::Params p;
  for (const std::string* values : {&ids, &kids, &edks, &new_kids, &new_edks}) p.add(*values);  // $1..$5
  const auto result = store::exec(lease, store::kRewrapBatchSql, p, "rotate");
  return written_ids(result.get());
}

Rewrite rewrite_row(const store::RecordCodec& codec, const SealedRow& row) {
  return {row.id, row.mid, row.edk, row.updated_us, codec.rotate(row.envelope, row.id, true)};
}

KeyMove rewrite_row(const store::RecordCodec& codec, const WrappedKeyRow& row) {
  auto moved = codec.rewrap_key(row);
  return {row.id, row.kid, row.edk, std::move(moved.kid), std::move(moved.edk)};
}

// The rows matching `where` (values in `p`), as re-encrypting (SealedRow) or re-wrapping
// (WrappedKeyRow) reads them.
template <typename Row>
std::vector<Row> read_rows(const store::SessionPool::Lease& lease, const store::RecordCodec& codec,
                           const std::string& where, const store::Params& p);
template <>
std::vector<SealedRow> read_rows(const store::SessionPool::Lease& lease, const store::RecordCodec&,
                                 const std::string& where, const store::Params& p) {
  return store::read_sealed(lease, where, p, "rotate");
}
template <>
std::vector<WrappedKeyRow> read_rows(const store::SessionPool::Lease& lease, const store::RecordCodec& codec,
                                     const std::string& where, const store::Params& p) {
  return store::read_wrapped_keys(lease, where, p, "rotate", codec.rewrap_reads_envelope());
}

std::string ids_json(const std::vector<long long>& ids) {
  std::string out = "[";
  for (std::size_t i = 0; i < ids.size(); ++i) out += (i ? "," : "") + std::to_string(ids[i]);
  return out + "]";
}

}  // namespace

namespace store {
const char* const kRewrapBatchSql =
    "UPDATE database_connections AS t "
    "SET connection_details = t.connection_details || jsonb_build_object('kid', v.new_kid, 'edk', v.new_edk) "
    "FROM unnest(CAST(string_to_array($1, ',') AS bigint[]), string_to_array($2, ','), string_to_array($3, ','), "
    "string_to_array($4, ','), string_to_array($5, ',')) AS v(id, kid, edk, new_kid, new_edk) "
    "WHERE t.id = v.id AND t.connection_details->>'kid' = v.kid AND t.connection_details->>'edk' = v.edk "
    "RETURNING CAST(t.id AS bigint)";
}  // namespace store

RotateReport ConnectionStore::rotate(const RotateOptions& options) {
  if (options.batch_size < 1 || options.batch_size > 10000)
    throw InvalidArgument("batch_size", "must be 1 to 10000");
  if (options.retries < 0 || options.retries > 100) throw InvalidArgument("retries", "must be 0 to 100");
  if (options.workers < 1 || options.workers > 16) throw InvalidArgument("workers", "must be 1 to 16");
  const auto& codec = impl_->codec;
  const std::string primary = crypto::checked_primary_key_id(codec.keys());
  // Which rows need work: under another key, or (re-encrypting) under another cipher.
  // Returns the filter; its values are added to `p`.
  auto needs_work = [&](store::Params& p) {
    std::string filter = "(connection_details->>'kid' IS DISTINCT FROM " + p.add(primary);
    if (options.reencrypt) filter += " OR connection_details->>'alg' IS DISTINCT FROM " + p.add(codec.cipher_name());
    return filter + ")";
  };

  // A session for one statement at a time, none held while the key provider unwraps and
  // wraps: a KMS call can take long, and the other workers (there may be more than
  // sessions) and the store's other callers need sessions meanwhile.
  auto on_session = [&](auto&& statement) {
    auto lease = impl_->pool.lease();
    return statement(lease);
  };

  // Workers take batches in id order from one cursor; each writes its own batches.
  std::mutex cursor_mutex;  // batches' id ranges are taken one at a time: they never overlap
  // From the lowest id there can be: the column takes any id another client gives, 0 and
  // negative ones included. The first range is empty, and moves the cursor to the first id.
  long long after = std::numeric_limits<long long>::min();
  bool exhausted = false;
  std::mutex report_mutex;
  RotateReport report;
  std::atomic<bool> stop{false};

  // The next range of batch_size ids, (low, high]; nullopt when no id is left (or on stop).
  // Taking it is arithmetic under the lock, no query: the workers never wait on each other
  // for the server. Sparse ids only make some batches smaller; a range found empty makes
  // its worker look up the next id there is (skip_gap_after).
  auto claim = [&]() -> std::optional<std::pair<long long, long long>> {
    std::lock_guard<std::mutex> lock(cursor_mutex);
    if (exhausted || stop) return std::nullopt;
    const long long low = after;
    after += static_cast<long long>(options.batch_size);
    return std::make_pair(low, after);
  };
  // After an empty range ending at `high`: moves the cursor up to the next id there is, or
  // ends the run when there is none. (Rows inserted meanwhile are sealed under the primary
  // key already.)
  auto skip_gap_after = [&](long long high) {
    store::Params p;
    const auto result = on_session([&](const store::SessionPool::Lease& lease) {
      return store::exec(lease, "SELECT min(id) FROM database_connections WHERE id > CAST(" + p.add(high) + " AS bigint)",
                         p, "rotate");
    });
    std::lock_guard<std::mutex> lock(cursor_mutex);
    if (PQgetisnull(result.get(), 0, 0)) {
      exhausted = true;
    } else {
      after = std::max(after, store::integer(result.get(), 0, 0) - 1);
    }
  };

  // Rewrites and writes one batch (`rows`: SealedRow re-encrypting, WrappedKeyRow
  // re-wrapping); rows edited meanwhile are re-read and retried. Counts each row read once:
  // scanned = rewritten + skipped_changed + failed, where a row another writer deleted or
  // moved to the primary meanwhile is not counted at all.
  auto rotate_batch = [&](auto rows, RotateReport& done) {
    using Row = typename decltype(rows)::value_type;
    done.scanned += static_cast<std::int64_t>(rows.size());
    for (int attempt = 0; !rows.empty(); ++attempt) {
      std::vector<decltype(rewrite_row(codec, rows.front()))> rewrites;
      rewrites.reserve(rows.size());
      for (const auto& row : rows) {
        try {
          rewrites.push_back(rewrite_row(codec, row));
        } catch (const Error&) {
          ++done.failed;  // verify() names it and says why
        }
      }
      if (options.dry_run || rewrites.empty()) {
        done.rewritten += static_cast<std::int64_t>(rewrites.size());
        return;
      }
      const auto written =
          on_session([&](const store::SessionPool::Lease& lease) { return write_batch(lease, rewrites); });
      done.rewritten += static_cast<std::int64_t>(written.size());
      if (written.size() == rewrites.size()) return;
      std::vector<long long> changed;
      for (const auto& r : rewrites) {
        if (std::find(written.begin(), written.end(), r.id) == written.end()) changed.push_back(r.id);
      }
      // Of the rows another writer changed, those that still need work.
      store::Params again;
      std::string where_again = "id IN (SELECT CAST(jsonb_array_elements_text(CAST(" +
                                again.add(ids_json(changed)) + " AS jsonb)) AS integer)) AND ";
      where_again += needs_work(again);
      rows = on_session([&](const store::SessionPool::Lease& lease) {
        return read_rows<Row>(lease, codec, where_again + " ORDER BY id", again);
      });
      done.scanned -= static_cast<std::int64_t>(changed.size() - rows.size());
      if (attempt >= options.retries) {
        done.skipped_changed += static_cast<std::int64_t>(rows.size());
        return;
      }
    }
  };

  // The rows of (low, high] still needing work, read and rotated; false when none does.
  auto rotate_range = [&](long long low, long long high, RotateReport& done) {
    store::Params p;
    std::string where = "id > CAST(" + p.add(low) + " AS bigint) AND id <= CAST(" + p.add(high) + " AS bigint) AND ";
    where += needs_work(p) + " ORDER BY id";
    using Lease = store::SessionPool::Lease;
    if (options.reencrypt) {
      auto rows = on_session([&](const Lease& lease) { return read_rows<SealedRow>(lease, codec, where, p); });
      if (rows.empty()) return false;
      rotate_batch(std::move(rows), done);
    } else {
      auto rows = on_session([&](const Lease& lease) { return read_rows<WrappedKeyRow>(lease, codec, where, p); });
      if (rows.empty()) return false;
      rotate_batch(std::move(rows), done);
    }
    return true;
  };

  // Progress is reported on the calling thread only: after each batch it finished, and at
  // the end when other workers finished batches after its last report. False: stop.
  std::exception_ptr stopped_by_caller;
  std::int64_t reported_scanned = 0;
  auto report_progress = [&](const RotateReport& so_far) {
    if (!options.progress || so_far.scanned == reported_scanned) return true;
    reported_scanned = so_far.scanned;
    try {
      options.progress(so_far);
      return true;
    } catch (...) {
      stopped_by_caller = std::current_exception();
      stop = true;
      return false;
    }
  };

  // Runs batches until none is left.
  auto work = [&](bool reports_progress) {
    while (!stop) {
      RotateReport done;
      const auto range = claim();
      if (!range) return;
      if (!rotate_range(range->first, range->second, done)) skip_gap_after(range->second);
      RotateReport so_far;
      {
        std::lock_guard<std::mutex> lock(report_mutex);
        report.scanned += done.scanned;
        report.rewritten += done.rewritten;
        report.skipped_changed += done.skipped_changed;
        report.failed += done.failed;
        so_far = report;
      }
      if (reports_progress && !report_progress(so_far)) return;
    }
  };

  try {
    {
      auto lease = impl_->pool.lease();
      store::Params p;
      const std::string filter = needs_work(p);
      const auto count = store::exec(lease, "SELECT count(*) FROM database_connections WHERE " + filter, p, "rotate");
      report.remaining_estimate = store::integer(count.get(), 0, 0);
    }
    std::vector<std::future<void>> helpers;
    struct StopOnExit {
      std::atomic<bool>& stop;
      ~StopOnExit() { stop = true; }
    } stop_on_exit{stop};  // destroyed before `helpers`, whose destructors wait for them
    for (int i = 1; i < options.workers; ++i) {
      helpers.push_back(std::async(std::launch::async, [&] {
        try {
          work(false);
        } catch (...) {
          stop = true;
          throw;
        }
      }));
    }
    try {
      work(true);
    } catch (...) {
      stop = true;
      throw;
    }
    for (auto& helper : helpers) helper.get();  // a helper's error is the rotation's error
    // The other workers' last batches, also after a stop: the caller learns every batch
    // written. Once stopped, what the callback throws again is not news.
    if (!stopped_by_caller) {
      report_progress(report);
    } else if (report.scanned != reported_scanned) {
      try {
        options.progress(report);
      } catch (...) {
      }
    }
  } catch (...) {
    store::rethrow_as_datahub_error("rotate");
  }
  if (stopped_by_caller) std::rethrow_exception(stopped_by_caller);
  return report;
}

}  // namespace datahub
