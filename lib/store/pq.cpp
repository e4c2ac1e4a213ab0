#include "store/pq.hpp"

#include "store/sql_error.hpp"

namespace datahub::store {

std::string Params::add(std::string value) {
  values_.push_back(std::move(value));
  return "$" + std::to_string(values_.size());
}

Result exec(const SessionPool::Lease& lease, const std::string& sql, const Params& params,
            const std::string& operation) {
  PGconn* conn = lease.connection();
  if (!conn) throw_lost_connection(operation, nullptr);
  auto& prepared = lease.prepared_statements();
  auto it = prepared.find(sql);
  if (it == prepared.end()) {
    const std::string name = "datahub_" + std::to_string(prepared.size() + 1);
    Result made(PQprepare(conn, name.c_str(), sql.c_str(), 0, nullptr));
    if (!made || PQresultStatus(made.get()) != PGRES_COMMAND_OK) throw_pq_error(operation, conn, made.get());
    it = prepared.emplace(sql, name).first;
  }
  std::vector<const char*> values;
  values.reserve(params.values().size());
  for (const auto& v : params.values()) values.push_back(v.c_str());
  Result result(PQexecPrepared(conn, it->second.c_str(), static_cast<int>(values.size()), values.data(),
                               nullptr, nullptr, 0));
  const auto status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
  if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) throw_pq_error(operation, conn, result.get());
  return result;
}

}  // namespace datahub::store

namespace datahub::store {

Result exec_unprepared(const SessionPool::Lease& lease, const std::string& sql, const Params& params,
                       const std::string& operation) {
  PGconn* conn = lease.connection();
  if (!conn) throw_lost_connection(operation, nullptr);
  std::vector<const char*> values;
  values.reserve(params.values().size());
  for (const auto& v : params.values()) values.push_back(v.c_str());
  Result result(PQexecParams(conn, sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(),
                             nullptr, nullptr, 0));
  const auto status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
  if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) throw_pq_error(operation, conn, result.get());
  return result;
}

}  // namespace datahub::store
