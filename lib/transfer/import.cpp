// Import: JSON lines -> checked records -> ConnectionStore::restore, a batch at a time, all
// or nothing.
#include "transfer/line_checker.hpp"

#include <datahub/error.hpp>
#include <datahub/store.hpp>
#include <datahub/transfer.hpp>

#include <exception>

namespace datahub {
namespace {

// Records handed to restore() at a time: what import holds, however long the file. Lines
// may be up to 1 MiB, so a batch also ends after kBatchBytes of them.
constexpr std::size_t kBatchRecords = 1000;
constexpr std::size_t kBatchBytes = std::size_t{8} << 20;

// Thrown through restore() at the first bad line: it rolls the transaction back.
struct StopWriting {};

// Appends good records to `batch` until it is full, the input ends, or a line fails (whose
// record, if any, is dropped).
void fill(transfer::LineChecker& lines, std::vector<Connection>& batch) {
  batch.reserve(kBatchRecords);
  std::size_t bytes = 0;
  Connection record;
  while (batch.size() < kBatchRecords && bytes < kBatchBytes && lines.next(record)) {
    if (!lines.errors().empty()) break;
    batch.push_back(std::move(record));
    bytes += lines.line_bytes();
  }
}

}  // namespace

ParsedExport read_export(std::istream& in, const ImportOptions& options) {
  ParsedExport out;
  transfer::LineChecker lines(in, options);
  for (Connection record; lines.next(record);) out.records.push_back(std::move(record));
  out.errors = lines.take_errors();
  out.sealed = lines.sealed();
  out.without_secrets = lines.without_secrets();
  return out;
}

ImportReport import_connections(ConnectionStore& store, std::istream& in, const ImportOptions& options) {
  transfer::LineChecker lines(in, options);
  ImportReport report;
  std::exception_ptr conflict;
  if (!options.dry_run) {
    // The first batch is read before the transaction opens: a file that fails at once, and
    // a passphrase and key stretch needed among the first lines, keep the table unlocked.
    std::vector<Connection> first;
    fill(lines, first);
    if (lines.errors().empty()) {
      try {
        store.restore([&](std::vector<Connection>& batch) {
          if (!first.empty()) {
            batch.swap(first);
            return;
          }
          fill(lines, batch);
          if (!lines.errors().empty()) throw StopWriting{};
        });
        report.written = true;
      } catch (const StopWriting&) {
      } catch (const Conflict&) {
        conflict = std::current_exception();  // a bad line below still takes precedence
      }
    }
  }
  // Whatever stopped the writing, or on a dry run, every remaining line is still checked.
  for (Connection record; lines.next(record);) {
  }
  report.records = lines.good();
  report.sealed = lines.sealed();
  report.without_secrets = lines.without_secrets();
  report.errors = lines.take_errors();
  if (!report.errors.empty()) return report;
  if (conflict) std::rethrow_exception(conflict);
  return report;
}

}  // namespace datahub
