// Raw libpq, for what the concurrency test checks outside the store; any failure ends the
// program (exit 2): the test cannot go on without its database.
#pragma once

#include <libpq-fe.h>

#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

struct Pg {
  PGconn* conn = nullptr;
  explicit Pg(const std::string& conninfo) : conn(PQconnectdb(conninfo.c_str())) {
    if (PQstatus(conn) != CONNECTION_OK) {
      std::cerr << "cannot connect to DATAHUB_TEST_DATABASE: " << PQerrorMessage(conn);
      std::exit(2);
    }
  }
  ~Pg() { PQfinish(conn); }
  std::vector<std::vector<std::string>> query(const char* sql) {
    PGresult* r = PQexec(conn, sql);
    std::vector<std::vector<std::string>> rows;
    const auto status = PQresultStatus(r);
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
      std::cerr << "SQL failed: " << sql << ": " << PQresultErrorMessage(r);
      PQclear(r);
      std::exit(2);
    }
    for (int i = 0; i < PQntuples(r); ++i) {
      rows.emplace_back();
      for (int j = 0; j < PQnfields(r); ++j) rows.back().emplace_back(PQgetvalue(r, i, j));
    }
    PQclear(r);
    return rows;
  }
};
