// A bare libpq connection: the baselines run through it, with nothing of the SDK in between.
#pragma once

#include <libpq-fe.h>

#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace bench {

struct PgConn {
  PGconn* c = nullptr;
  explicit PgConn(const std::string& conninfo) {
    c = PQconnectdb(conninfo.c_str());
    if (PQstatus(c) != CONNECTION_OK) throw std::runtime_error(std::string("connect: ") + PQerrorMessage(c));
  }
  ~PgConn() { PQfinish(c); }
  PgConn(const PgConn&) = delete;
  PgConn& operator=(const PgConn&) = delete;

  // Runs a statement; returns the result's rows as text.
  std::vector<std::vector<std::string>> query(const std::string& sql) {
    PGresult* r = PQexec(c, sql.c_str());
    const auto st = PQresultStatus(r);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
      std::string e = PQresultErrorMessage(r);
      PQclear(r);
      throw std::runtime_error("SQL failed: " + e + " in: " + sql.substr(0, 200));
    }
    std::vector<std::vector<std::string>> rows;
    for (int i = 0; i < PQntuples(r); ++i) {
      std::vector<std::string> row;
      for (int j = 0; j < PQnfields(r); ++j) row.emplace_back(PQgetvalue(r, i, j));
      rows.push_back(std::move(row));
    }
    PQclear(r);
    return rows;
  }
  std::string scalar(const std::string& sql) {
    auto rows = query(sql);
    return rows.empty() || rows[0].empty() ? "" : rows[0][0];
  }
  // Prepares `sql` as `name` on this connection, unless it already holds that statement.
  void prepare(const std::string& name, const std::string& sql) {
    const auto [it, added] = prepared_.emplace(name, sql);
    if (!added) {
      if (it->second != sql) throw std::runtime_error("prepare: " + name + " already names another statement");
      return;
    }
    PGresult* r = PQprepare(c, name.c_str(), sql.c_str(), 0, nullptr);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
      std::string e = PQresultErrorMessage(r);
      PQclear(r);
      prepared_.erase(name);
      throw std::runtime_error("prepare failed: " + e);
    }
    PQclear(r);
  }
  // Executes a prepared statement with text parameters; returns the result (caller clears).
  PGresult* exec_prepared(const std::string& name, const std::vector<const char*>& values) {
    PGresult* r = PQexecPrepared(c, name.c_str(), static_cast<int>(values.size()), values.data(), nullptr,
                                 nullptr, 0);
    const auto st = PQresultStatus(r);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
      std::string e = PQresultErrorMessage(r);
      PQclear(r);
      throw std::runtime_error("exec failed: " + e);
    }
    return r;
  }
  // COPY ... FROM STDIN, fed by `produce` until it returns false.
  void copy_in(const std::string& sql, const std::function<bool(std::string&)>& produce) {
    PGresult* r = PQexec(c, sql.c_str());
    if (PQresultStatus(r) != PGRES_COPY_IN) {
      std::string e = PQresultErrorMessage(r);
      PQclear(r);
      throw std::runtime_error("COPY failed: " + e);
    }
    PQclear(r);
    std::string chunk;
    for (;;) {
      chunk.clear();
      const bool more = produce(chunk);
      if (!chunk.empty() && PQputCopyData(c, chunk.data(), static_cast<int>(chunk.size())) != 1)
        throw std::runtime_error(std::string("PQputCopyData: ") + PQerrorMessage(c));
      if (!more) break;
    }
    if (PQputCopyEnd(c, nullptr) != 1) throw std::runtime_error(std::string("PQputCopyEnd: ") + PQerrorMessage(c));
    while ((r = PQgetResult(c)) != nullptr) {
      if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        std::string e = PQresultErrorMessage(r);
        PQclear(r);
        throw std::runtime_error("COPY failed: " + e);
      }
      PQclear(r);
    }
  }

 private:
  std::map<std::string, std::string> prepared_;  // name -> SQL
};

}  // namespace bench
