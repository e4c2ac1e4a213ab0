// Fixtures for the target and transfer tests: the test database (DATAHUB_TEST_DATABASE,
// required), a store over it, an admin libpq session, and a login role with a hostile password.
#pragma once

#include <datahub/connections.hpp>

#include <libpq-fe.h>

#include <memory>
#include <string>

namespace test {

// Spaces, single and double quotes, a backslash, '@', ':' and '/': everything that breaks
// naive conninfo strings and URIs.
inline const std::string kHostilePassword = R"(s3 cr'et "pw" \ me@host:5432/db)";
inline const std::string kRoleName = "dh_target_test_role";

const std::string& database();          // aborts the run when unset
std::string database_name();            // dbname of DATAHUB_TEST_DATABASE
int server_port();                      // its port (5432 when none is given)
std::string tcp_host();                 // DATAHUB_TEST_PG_HOST_TCP, else 127.0.0.1

// Runs SQL as the cluster's superuser; throws std::runtime_error on failure.
void admin_exec(const std::string& sql);
// The SQL literal for `value`, escaped by libpq (PQescapeLiteral).
std::string literal(const std::string& value);
// The first column of the first row of `sql`, as an integer.
long long admin_scalar(const std::string& sql);
long long row_count();

std::shared_ptr<datahub::StaticKeyring> keyring();
// A migrated store with keyring(), shared by the whole run.
datahub::ConnectionStore& store();
void clear_table();

// Creates kRoleName with kHostilePassword (LOGIN); drops it when destroyed.
struct LoginRole {
  LoginRole();
  ~LoginRole();
  LoginRole(const LoginRole&) = delete;
  LoginRole& operator=(const LoginRole&) = delete;
};

// Details reaching the test server over TCP as kRoleName.
datahub::Details role_details(const std::string& password = kHostilePassword);

// A 127.0.0.1 port nobody listens on (bound, then released).
int closed_port();

}  // namespace test
