// test_connection against the throwaway server: success and each kind of failure.
#include "support.hpp"

#include <datahub/target.hpp>

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <thread>
#include <vector>

using datahub::TestFailure;

namespace {

datahub::NewConnection stored(const datahub::Details& details) {
  datahub::NewConnection c;
  c.name = "target under test";
  c.details = details;
  return c;
}

// A socket that listens but never answers: the TCP handshake completes, libpq waits.
struct SilentServer {
  int fd = -1;
  int port = 0;
  SilentServer() {
    fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    REQUIRE(listen(fd, 4) == 0);
    REQUIRE(getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0);
    port = ntohs(address.sin_port);
  }
  ~SilentServer() { close(fd); }
};

// One protocol message: type, length, body.
std::string message_of(char type, const std::string& body) {
  const std::uint32_t length = htonl(static_cast<std::uint32_t>(4 + body.size()));
  std::string out(1, type);
  out.append(reinterpret_cast<const char*>(&length), 4);
  return out + body;
}

// A "server" (a hostile target) that answers the first startup packet with `reply`, then
// keeps what the client sends until it hangs up.
struct ScriptedServer {
  SilentServer socket;
  std::thread thread;
  std::string heard;  // after the startup packet; read it through heard_all()
  explicit ScriptedServer(std::string reply) {
    thread = std::thread([this, reply = std::move(reply)] {
      const int client = accept(socket.fd, nullptr, nullptr);
      if (client < 0) return;
      char buffer[1024];
      (void)!read(client, buffer, sizeof buffer);
      (void)!write(client, reply.data(), reply.size());
      ssize_t n;
      while ((n = read(client, buffer, sizeof buffer)) > 0) heard.append(buffer, static_cast<std::size_t>(n));
      close(client);
    });
  }
  const std::string& heard_all() {
    if (thread.joinable()) thread.join();
    return heard;
  }
  ~ScriptedServer() {
    if (thread.joinable()) thread.join();
  }
};

// Sets an environment variable for one scope and puts back what was there.
struct ScopedEnv {
  std::string name;
  std::optional<std::string> old;
  ScopedEnv(std::string n, const std::string& value) : name(std::move(n)) {
    if (const char* was = std::getenv(name.c_str())) old = was;
    setenv(name.c_str(), value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old) setenv(name.c_str(), old->c_str(), 1);
    else unsetenv(name.c_str());
  }
};

// AuthenticationCleartextPassword: the client answers with the password in clear.
std::string cleartext_password_request() { return message_of('R', std::string("\0\0\0\3", 4)); }

std::string error_reply(const std::string& message) {
  return message_of('E', std::string("SFATAL") + '\0' + "VFATAL" + '\0' + "C28000" + '\0' + "M" + message + '\0' + '\0');
}

// Authentication ok (no password asked), then a server_version of the server's choosing.
std::string welcome_reply(const std::string& version) {
  return message_of('R', std::string(4, '\0')) + message_of('S', "server_version" + std::string(1, '\0') + version + '\0') +
         message_of('K', std::string(8, '\1')) + message_of('Z', "I");
}

void check_no_password(const datahub::TestResult& r) {
  CHECK(r.message.find(test::kHostilePassword) == std::string::npos);
  CHECK(datahub::to_json(r).find("s3 cr") == std::string::npos);
}

}  // namespace

TEST_CASE("a stored connection with a hostile password connects, with the server version") {
  test::clear_table();
  test::LoginRole role;
  const auto created = test::store().create(stored(test::role_details()), "target-test");
  const auto r = datahub::test_connection(test::store(), created.id);
  CHECK_MESSAGE(r.ok, r.message);
  CHECK(r.failure == TestFailure::none);
  CHECK(r.server_version_num >= 100000);
  CHECK(r.server_version.find('.') != std::string::npos);
  CHECK(r.latency.count() > 0);
  const std::string json = datahub::to_json(r);
  CHECK(json.find("\"ok\":true") != std::string::npos);
  CHECK(json.find("\"failure\":null") != std::string::npos);
}

TEST_CASE("a wrong password is authentication_failed, and the message never holds a password") {
  test::clear_table();
  test::LoginRole role;
  const auto created = test::store().create(stored(test::role_details("wrong " + test::kHostilePassword)), "t");
  const auto r = datahub::test_connection(test::store(), created.id);
  CHECK_FALSE(r.ok);
  CHECK(r.failure == TestFailure::authentication_failed);
  CHECK(r.sqlstate == "28P01");
  CHECK(r.message.find("password authentication failed") != std::string::npos);
  CHECK(r.message.find('\n') == std::string::npos);
  check_no_password(r);
  CHECK(datahub::to_json(r).find("\"failure\":\"authentication_failed\"") != std::string::npos);
}

TEST_CASE("a closed port is unreachable") {
  auto details = test::role_details();
  details.set("port", test::closed_port());
  const auto r = datahub::test_connection(details, "POSTGRESQL");
  CHECK_FALSE(r.ok);
  CHECK(r.failure == TestFailure::unreachable);
  CHECK(r.sqlstate.empty());
  check_no_password(r);
}

TEST_CASE("a missing database is database_missing") {
  test::LoginRole role;
  auto details = test::role_details();
  details.set("database", "no_such_database_here");
  const auto r = datahub::test_connection(details, "POSTGRESQL");
  CHECK(r.failure == TestFailure::database_missing);
  CHECK(r.sqlstate == "3D000");
  check_no_password(r);
}

TEST_CASE("TLS required by a server without TLS is tls") {
  test::LoginRole role;
  auto details = test::role_details();
  details.set("sslmode", "require");
  const auto r = datahub::test_connection(details, "POSTGRESQL");
  CHECK(r.failure == TestFailure::tls);
  check_no_password(r);
}

TEST_CASE("a server that never answers is a timeout, within the deadline") {
  SilentServer silent;
  auto details = test::role_details();
  details.set("port", silent.port);
  const auto r = datahub::test_connection(details, "POSTGRESQL", {std::chrono::milliseconds(700)});
  CHECK(r.failure == TestFailure::timeout);
  CHECK(r.latency >= std::chrono::milliseconds(650));
  CHECK(r.latency < std::chrono::milliseconds(3000));
}

TEST_CASE("a password the server echoes back is scrubbed from the message") {
  // A role name equal to the password makes libpq quote the password in its message.
  auto details = test::role_details("samepassword");
  details.set("username", "samepassword");
  const auto r = datahub::test_connection(details, "POSTGRESQL");
  CHECK(r.failure == TestFailure::authentication_failed);
  CHECK(r.message.find("samepassword") == std::string::npos);
  CHECK(r.message.find("********") != std::string::npos);
}

TEST_CASE("an echoed password that looks like a SQLSTATE prefix is still scrubbed whole") {
  // Taking "FATAL:  AAAAA: " out of the message before the scrub left "tail-of-secret" in it.
  const std::string password = "FATAL:  AAAAA: tail-of-secret";
  auto details = test::role_details(password);
  details.set("username", password);
  const auto r = datahub::test_connection(details, "POSTGRESQL");
  CHECK(r.failure == TestFailure::authentication_failed);
  CHECK(r.sqlstate == "28P01");
  CHECK_MESSAGE(r.message.find("tail-of-secret") == std::string::npos, r.message);
  CHECK(r.message.find("********") != std::string::npos);
}

TEST_CASE("a hostile server's message reaches the result as printable UTF-8") {
  // Escape sequences would reach the operator's terminal (dhconn test), invalid UTF-8 the JSON.
  ScriptedServer server(error_reply("no \x1b]0;owned\x07 \x1b[2J entry\r\nfor you \xff\xfe \xC2\x9B end"));
  auto details = test::role_details();
  details.set("port", server.socket.port);
  const auto r = datahub::test_connection(details, "POSTGRESQL");
  CHECK(r.failure == TestFailure::authentication_failed);
  CHECK(r.sqlstate == "28000");
  CHECK_MESSAGE(r.message.find("no ?]0;owned? ?[2J entry") != std::string::npos, r.message);
  for (const char c : r.message) {
    const auto byte = static_cast<unsigned char>(c);
    CHECK((byte >= 0x20 && byte != 0x7F && byte != 0xFF && byte != 0xFE));
  }
  CHECK(r.message.find("\xC2\x9B") == std::string::npos);
  CHECK(r.message.find("\xEF\xBF\xBD") != std::string::npos);  // U+FFFD for each bad byte
  check_no_password(r);
}

TEST_CASE("a hostile server's version string reaches the result as printable UTF-8") {
  ScriptedServer server(welcome_reply("15.0 \x1b]0;owned\x07\xff"));
  auto details = test::role_details();
  details.set("port", server.socket.port);
  const auto r = datahub::test_connection(details, "POSTGRESQL");
  REQUIRE_MESSAGE(r.ok, r.message);
  CHECK(r.server_version == "15.0 ?]0;owned?\xEF\xBF\xBD");
}

TEST_CASE("bad options and unknown ids are errors, not results") {
  test::clear_table();
  CHECK_THROWS_AS(datahub::test_connection(test::store(), 999999), datahub::NotFound);
  CHECK_THROWS_AS(datahub::test_connection(test::role_details(), "POSTGRESQL", {std::chrono::milliseconds(5)}),
                  datahub::InvalidArgument);
  CHECK_THROWS_AS(datahub::test_connection(test::role_details(), "MYSQL"), datahub::InvalidArgument);
}

TEST_CASE("a record without a password never sends the tester's PGPASSWORD or password file") {
  // A record's author chooses the host: whatever the testing process has in its
  // environment for its own databases must not reach it.
  const std::string file = "/tmp/datahub-target-test-" + std::to_string(getpid()) + ".pgpass";
  {
    std::ofstream out(file);
    out << "*:*:*:*:from-the-password-file\n";
  }
  REQUIRE(chmod(file.c_str(), 0600) == 0);
  const auto check_nothing_sent = [](const std::optional<std::string>& password) {
    ScriptedServer server(cleartext_password_request());
    auto details = test::role_details(password.value_or(""));
    if (!password) details.erase("password");
    details.set("port", server.socket.port);
    const auto r = datahub::test_connection(details, "POSTGRESQL");
    const std::string& heard = server.heard_all();
    CHECK(r.failure == TestFailure::authentication_failed);
    CHECK_MESSAGE(heard.find("from-the-environment") == std::string::npos, heard);
    CHECK_MESSAGE(heard.find("from-the-password-file") == std::string::npos, heard);
  };

  SUBCASE("PGPASSWORD") {
    ScopedEnv env_password("PGPASSWORD", "from-the-environment");
    check_nothing_sent(std::nullopt);
  }
  SUBCASE("a password file (PGPASSFILE, or ~/.pgpass) with an entry for every host") {
    ScopedEnv env_file("PGPASSFILE", file);
    check_nothing_sent(std::nullopt);
  }
  SUBCASE("an empty password is the record's password, not the environment's") {
    ScopedEnv env_password("PGPASSWORD", "from-the-environment");
    ScopedEnv env_file("PGPASSFILE", file);
    check_nothing_sent(std::string());
  }
  SUBCASE("the record's own password is what the server gets (the capture works)") {
    ScopedEnv env_password("PGPASSWORD", "from-the-environment");
    ScriptedServer server(cleartext_password_request());
    auto details = test::role_details("the-record's-own");
    details.set("port", server.socket.port);
    (void)datahub::test_connection(details, "POSTGRESQL");
    CHECK(server.heard_all().find("the-record's-own") != std::string::npos);
  }
  std::remove(file.c_str());
}

TEST_CASE("a host named like a server error does not choose the failure's category") {
  // libpq quotes the host (or socket path) in its own text; a SQLSTATE read from there
  // would let a record's author label any failure.
  const std::string long_tail(40, 'x');  // longer than libpq's text before the host
  for (const std::string& host : std::vector<std::string>{"/tmp/no-such-dir FATAL:  28P01: spoof", "no-such-host.invalid FATAL:  3D000: spoof",
        "/FATAL:  28P01: " + long_tail, "no-such-host.invalid,/tmp/FATAL:  28P01: spoof",
        "SSL-certificate.invalid"}) {
    CAPTURE(host);
    auto details = test::role_details();
    details.set("host", host);
    const auto r = datahub::test_connection(details, "POSTGRESQL");
    CHECK(r.failure == TestFailure::unreachable);
    CHECK(r.sqlstate.empty());
    const std::string shown = host.substr(host.size() - 8);  // the text is left as it is
    CHECK_MESSAGE(r.message.find(shown) != std::string::npos, r.message);
  }
}
