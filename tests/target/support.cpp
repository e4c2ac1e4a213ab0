#include "support.hpp"

#include <botan/system_rng.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <stdexcept>

namespace test {
namespace {

std::string conninfo_value(const char* keyword) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(database().c_str(), &error);
  if (!options) {
    PQfreemem(error);
    throw std::runtime_error("DATAHUB_TEST_DATABASE is not a valid conninfo");
  }
  std::string value;
  for (PQconninfoOption* o = options; o->keyword; ++o) {
    if (std::string(o->keyword) == keyword && o->val) value = o->val;
  }
  PQconninfoFree(options);
  return value;
}

PGconn* admin() {
  static PGconn* conn = [] {
    PGconn* c = PQconnectdb(database().c_str());
    if (PQstatus(c) != CONNECTION_OK) throw std::runtime_error(std::string("admin: ") + PQerrorMessage(c));
    PQsetNoticeProcessor(c, [](void*, const char*) {}, nullptr);  // "role ... does not exist, skipping"
    // The server logs every statement; keep the test role's password out of that log.
    PQclear(PQexec(c, "SET log_statement = 'none'"));
    return c;
  }();
  return conn;
}

}  // namespace

const std::string& database() {
  static const std::string value = [] {
    const char* v = std::getenv("DATAHUB_TEST_DATABASE");
    if (!v || !*v) {
      std::cerr << "DATAHUB_TEST_DATABASE is not set; run tests/run.sh\n";
      std::exit(2);
    }
    return std::string(v);
  }();
  return value;
}

std::string database_name() { return conninfo_value("dbname"); }

int server_port() {
  const std::string port = conninfo_value("port");
  return port.empty() ? 5432 : std::stoi(port);
}

std::string tcp_host() {
  const char* host = std::getenv("DATAHUB_TEST_PG_HOST_TCP");
  return host && *host ? host : "127.0.0.1";
}

void admin_exec(const std::string& sql) {
  PGresult* result = PQexec(admin(), sql.c_str());
  const bool ok = PQresultStatus(result) == PGRES_COMMAND_OK || PQresultStatus(result) == PGRES_TUPLES_OK;
  const std::string error = ok ? "" : PQresultErrorMessage(result);
  PQclear(result);
  if (!ok) throw std::runtime_error("admin_exec: " + error);
}

long long admin_scalar(const std::string& sql) {
  PGresult* result = PQexec(admin(), sql.c_str());
  const bool ok = PQresultStatus(result) == PGRES_TUPLES_OK && PQntuples(result) == 1;
  const long long value = ok ? std::stoll(PQgetvalue(result, 0, 0)) : 0;
  const std::string error = ok ? "" : PQresultErrorMessage(result);
  PQclear(result);
  if (!ok) throw std::runtime_error("admin_scalar: " + error);
  return value;
}

long long row_count() { return admin_scalar("SELECT count(*) FROM database_connections"); }

std::string literal(const std::string& value) {
  char* escaped = PQescapeLiteral(admin(), value.c_str(), value.size());
  if (!escaped) throw std::runtime_error("PQescapeLiteral failed");
  std::string out(escaped);
  PQfreemem(escaped);
  return out;
}

std::shared_ptr<datahub::StaticKeyring> keyring() {
  static const auto keys = [] {
    std::vector<datahub::StaticKeyring::Key> list;
    list.emplace_back("target-test", Botan::system_rng().random_vec(32));
    return std::make_shared<datahub::StaticKeyring>("target-test", std::move(list));
  }();
  return keys;
}

datahub::ConnectionStore& store() {
  static auto instance = [] {
    datahub::StoreOptions options;
    options.database = database();
    options.pool_size = 2;
    options.keys = keyring();
    auto s = std::make_unique<datahub::ConnectionStore>(options);
    s->migrate();
    return s;
  }();
  return *instance;
}

void clear_table() {
  store();  // migrated
  admin_exec("DELETE FROM database_connections");
}

LoginRole::LoginRole() {
  admin_exec("DROP ROLE IF EXISTS " + kRoleName);
  admin_exec("CREATE ROLE " + kRoleName + " LOGIN PASSWORD " + literal(kHostilePassword));
}

LoginRole::~LoginRole() {
  try {
    admin_exec("DROP ROLE IF EXISTS " + kRoleName);
  } catch (const std::exception& e) {
    std::cerr << e.what() << "\n";
  }
}

datahub::Details role_details(const std::string& password) {
  datahub::Details d;
  d.set("host", tcp_host()).set("port", server_port()).set("database", database_name())
      .set("username", kRoleName).set("password", password).set("sslmode", "disable");
  return d;
}

int closed_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    close(fd);
    throw std::runtime_error("closed_port: cannot bind");
  }
  close(fd);
  return ntohs(address.sin_port);
}

}  // namespace test
