#include "store/pq.hpp"

#include "store/sql_error.hpp"

#include <algorithm>
#include <cstdlib>

namespace datahub::store {

std::string Params::add(std::string value) {
  values_.emplace_back(std::move(value));
  return "$" + std::to_string(values_.size());
}

std::string Params::add_nullable(const std::optional<std::string>& value) {
  values_.push_back(value);
  return "$" + std::to_string(values_.size());
}

std::vector<const char*> Params::pointers() const {
  std::vector<const char*> out;
  out.reserve(values_.size());
  for (const auto& v : values_) out.push_back(v ? v->c_str() : nullptr);
  return out;
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
  const std::vector<const char*> values = params.pointers();
  Result result(PQexecPrepared(conn, it->second.c_str(), static_cast<int>(values.size()), values.data(),
                               nullptr, nullptr, 0));
  const auto status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
  if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) throw_pq_error(operation, conn, result.get());
  return result;
}

Result exec_unprepared(const SessionPool::Lease& lease, const std::string& sql, const Params& params,
                       const std::string& operation) {
  PGconn* conn = lease.connection();
  if (!conn) throw_lost_connection(operation, nullptr);
  const std::vector<const char*> values = params.pointers();
  Result result(PQexecParams(conn, sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(),
                             nullptr, nullptr, 0));
  const auto status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
  if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) throw_pq_error(operation, conn, result.get());
  return result;
}

CopyIn::CopyIn(const SessionPool::Lease& lease, const std::string& copy_sql, std::string operation,
               RowName row_name)
    : conn_(lease.connection()), operation_(std::move(operation)), row_name_(std::move(row_name)) {
  if (!conn_) throw_lost_connection(operation_, nullptr);
  Result started(PQexec(conn_, copy_sql.c_str()));
  if (!started || PQresultStatus(started.get()) != PGRES_COPY_IN) throw_pq_error(operation_, conn_, started.get());
}

CopyIn::~CopyIn() {
  if (!open_) return;
  if (PQputCopyEnd(conn_, "datahub: abandoned") == 1) {
    while (Result r{PQgetResult(conn_)}) {}  // back to idle (in a failed transaction)
  }
}

void CopyIn::send(const std::string& rows) {
  constexpr std::size_t kChunk = 1 << 20;  // PQputCopyData takes an int length
  for (std::size_t at = 0; at < rows.size(); at += kChunk) {
    const std::size_t n = std::min(kChunk, rows.size() - at);
    if (PQputCopyData(conn_, rows.data() + at, static_cast<int>(n)) != 1) fail();
  }
  // Read whatever the server has sent, without waiting, so that a dropped connection shows
  // now rather than after every row has been sealed: libpq ignores failed writes until it
  // reads. (A row the server rejected still shows only at finish(): libpq holds an error
  // back while a COPY IN is in progress.)
  if (PQconsumeInput(conn_) == 0 || PQstatus(conn_) == CONNECTION_BAD) fail();
}

long long CopyIn::finish() {
  open_ = false;
  if (PQputCopyEnd(conn_, nullptr) != 1) fail();
  Result finished(PQgetResult(conn_));
  while (Result extra{PQgetResult(conn_)}) {}  // drain to idle
  if (!finished || PQresultStatus(finished.get()) != PGRES_COMMAND_OK) throw_server_error(finished.get());
  return std::strtoll(PQcmdTuples(finished.get()), nullptr, 10);  // "COPY n"
}

void CopyIn::fail() {
  open_ = false;
  if (PQstatus(conn_) == CONNECTION_BAD) throw_lost_connection(operation_, conn_);
  // The server ended the COPY with an error: collect it.
  Result result(PQgetResult(conn_));
  while (Result extra{PQgetResult(conn_)}) {}
  if (result && PQresultStatus(result.get()) == PGRES_COPY_IN) {  // still copying: a local failure
    PQputCopyEnd(conn_, "datahub: sending the rows failed");
    while (Result r{PQgetResult(conn_)}) {}
    throw_lost_connection(operation_, conn_);
  }
  throw_server_error(result.get());
}

void CopyIn::throw_server_error(const PGresult* result) {
  const long long line = copy_error_line(result);
  throw_pq_error(operation_, conn_, result, line > 0 && row_name_ ? row_name_(line) : std::string());
}

void append_conninfo_value(std::string& out, std::string_view value) {
  out += '\'';
  for (char c : value) {
    if (c == '\\' || c == '\'') out += '\\';
    out += c;
  }
  out += '\'';
}

void append_copy_field(std::string& out, std::string_view value) {
  for (char c : value) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\t': out += "\\t"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      default: out += c;
    }
  }
}

}  // namespace datahub::store
