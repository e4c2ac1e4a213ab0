// ConnectionStore::restore: writes exported records back exactly as they were.
#include "store/restore_writer.hpp"
#include "store/store_impl.hpp"
#include "transfer/record_rules.hpp"

#include <datahub/error.hpp>

#include <algorithm>
#include <optional>
#include <set>

namespace datahub {
namespace {

constexpr std::size_t kBatchRows = 1000;  // rows sealed, then streamed, at a time

// The record checked and normalized; the field names its index among all records.
Connection check_one(const Connection& record, std::size_t index) {
  try {
    return transfer::check_restorable(record);
  } catch (const InvalidArgument& e) {
    throw InvalidArgument("records[" + std::to_string(index) + "]." + e.field(), transfer::reason_of(e));
  }
}

std::vector<std::string> seal_all(const store::RecordCodec& codec, const std::vector<Connection>& checked) {
  std::vector<std::string> envelopes;
  envelopes.reserve(checked.size());
  for (const auto& c : checked) envelopes.push_back(codec.seal(c.details, c.id));
  return envelopes;
}

}  // namespace

void ConnectionStore::restore(const std::vector<Connection>& records) {
  if (records.empty()) return;
  // Every record checked, and sealed, before the transaction opens: a bad record costs no
  // lock, nor does a slow key provider.
  std::vector<Connection> checked;
  checked.reserve(records.size());
  std::set<std::int64_t> ids;
  for (std::size_t i = 0; i < records.size(); ++i) {
    checked.push_back(check_one(records[i], i));
    if (!ids.insert(records[i].id).second)
      throw InvalidArgument("records[" + std::to_string(i) + "].id", "appears twice");
  }
  const std::vector<std::string> envelopes = seal_all(impl_->codec, checked);
  store::RestoreWriter writer(impl_->pool);
  for (std::size_t at = 0; at < checked.size(); at += kBatchRows) {
    writer.write(&checked[at], &envelopes[at], std::min(kBatchRows, checked.size() - at));
  }
  writer.commit();
}

void ConnectionStore::restore(const std::function<void(std::vector<Connection>& batch)>& next) {
  std::optional<store::RestoreWriter> writer;  // opened once the first batch is sealed
  std::vector<Connection> batch, checked;
  for (std::size_t index = 0;;) {
    batch.clear();
    next(batch);  // outside any catch: its exceptions pass unchanged, and roll back
    if (batch.empty()) break;
    checked.clear();
    for (const auto& record : batch) checked.push_back(check_one(record, index++));
    batch.clear();  // the caller's copies, secrets wiped, before the next are made
    const std::vector<std::string> envelopes = seal_all(impl_->codec, checked);
    if (!writer) writer.emplace(impl_->pool);
    writer->write(checked.data(), envelopes.data(), checked.size());
  }
  if (writer) writer->commit();
}

}  // namespace datahub
