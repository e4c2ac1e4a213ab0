#include "rotation_check.hpp"

#include <cstdio>
#include <map>
#include <memory>

namespace {

bool same_record(const datahub::Connection& a, const datahub::Connection& b) {
  return a.name == b.name && a.details == b.details && a.tags == b.tags && a.updated_at == b.updated_at &&
         a.updated_by == b.updated_by;
}

}  // namespace

std::vector<std::string> check_rotation_with_workers(datahub::ConnectionStore& store,
                                                     const datahub::StoreOptions& options,
                                                     const std::set<std::int64_t>& ids) {
  std::vector<std::string> problems;
  std::map<std::int64_t, datahub::Connection> before;
  for (auto id : ids) before.emplace(id, store.get(id, datahub::Secrets::reveal));

  std::vector<datahub::StaticKeyring::Key> both;
  both.emplace_back("conc:k2", datahub::SecretBytes(32, 0x43));
  both.emplace_back("conc:k1", datahub::SecretBytes(32, 0x42));
  datahub::StoreOptions rotating = options;
  rotating.keys = std::make_shared<datahub::StaticKeyring>("conc:k2", std::move(both));
  datahub::ConnectionStore next(rotating);
  datahub::RotateOptions rotate;
  rotate.batch_size = 5;  // several batches for each worker
  rotate.workers = 3;
  const datahub::RotateReport report = next.rotate(rotate);
  if (report.rewritten != static_cast<std::int64_t>(ids.size()) || report.failed != 0 ||
      report.skipped_changed != 0) {
    problems.push_back("rotate with 3 workers rewrote " + std::to_string(report.rewritten) + " of " +
                       std::to_string(ids.size()) + " rows (" + std::to_string(report.failed) + " failed)");
  }
  const datahub::KeyCensus census = next.census();
  if (census.keys.size() != 1 || census.keys.front().key_id != "conc:k2") problems.push_back("rows left under conc:k1");
  for (const auto& [id, old] : before) {
    const datahub::Connection now = next.get(id, datahub::Secrets::reveal);
    if (now.key_id != "conc:k2" || !same_record(now, old))
      problems.push_back("id " + std::to_string(id) + " is not the same record after the rotation");
  }
  std::printf("rotated: %lld rows onto conc:k2 with 3 workers\n", static_cast<long long>(report.rewritten));
  return problems;
}
