// export -> empty table -> import gives the same records; secrets never in clear.
#include "support.hpp"
#include "transfer_support.hpp"

#include <datahub/transfer.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <sstream>
#include <vector>

using datahub::Secrets;
using test::import_text;
using test::replaced;
using test::table_snapshot;

namespace {

const std::string kPassphrase = "correct horse battery staple";

// Three records: a hostile password, no description, no password; one updated later.
std::vector<datahub::Connection> seed_records() {
  test::clear_table();
  auto& store = test::store();
  datahub::NewConnection a;
  a.name = "Production DB";
  a.description = "Main production database";
  a.details = test::role_details();
  a.tags = {"production", "main"};
  datahub::NewConnection b;
  b.name = "Reporting";
  b.details.set("host", "reports.internal").set("database", "rep").set("username", "ro").set("password", "pw-B-MARKER");
  datahub::NewConnection c;
  c.name = "No secret";
  c.details.set("host", "/run/postgresql").set("database", "x").set("username", "y");
  c.tags = {"local"};
  store.create(a, "user_01");
  const auto second = store.create(b, "user_02");
  store.create(c, "user_03");
  datahub::ConnectionPatch patch;
  patch.tags = std::vector<std::string>{"reports"};
  store.update(second.id, patch, "user_04", second.updated_at);
  return store.list({}, Secrets::reveal).items;
}

std::string export_text(const datahub::ExportOptions& options = {}) {
  std::ostringstream out;
  datahub::export_connections(test::store(), out, options);
  return out.str();
}

void check_same(const datahub::Connection& x, const datahub::Connection& y) {
  CHECK(x.id == y.id);
  CHECK(x.name == y.name);
  CHECK(x.description == y.description);
  CHECK(x.type == y.type);
  CHECK(x.details == y.details);
  CHECK(x.tags == y.tags);
  CHECK(x.created_at == y.created_at);
  CHECK(x.created_by == y.created_by);
  CHECK(x.updated_at == y.updated_at);
  CHECK(x.updated_by == y.updated_by);
}

datahub::ExportOptions sealed(datahub::PassphraseKdf kdf = datahub::PassphraseKdf::argon2id) {
  datahub::ExportOptions options;
  options.passphrase = kPassphrase;
  options.kdf = kdf;
  return options;
}

}  // namespace

TEST_CASE("sealed round trip: export, empty table, import gives the same records, passwords included") {
  const auto before = seed_records();
  const std::string text = export_text(sealed());
  CHECK(text.find("s3 cr") == std::string::npos);
  CHECK(text.find("pw-B-MARKER") == std::string::npos);
  CHECK(text.find("\"sealed_secrets\"") != std::string::npos);
  CHECK(text.find("\"alg\":\"argon2id\"") != std::string::npos);

  test::clear_table();
  const auto report = import_text(text, [] { return kPassphrase; });
  CHECK(report.errors.empty());
  CHECK(report.written);
  CHECK(report.records == 3);
  CHECK(report.sealed == 2);
  const auto after = test::store().list({}, Secrets::reveal).items;
  REQUIRE(after.size() == before.size());
  for (std::size_t i = 0; i < before.size(); ++i) check_same(before[i], after[i]);

  // The id sequence moved past the restored ids.
  datahub::NewConnection next;
  next.name = "after import";
  next.details.set("host", "h").set("database", "d").set("username", "u");
  CHECK(test::store().create(next, "t").id > before.back().id);
}

TEST_CASE("scrypt works as the key stretcher too") {
  const auto before = seed_records();
  const std::string text = export_text(sealed(datahub::PassphraseKdf::scrypt));
  CHECK(text.find("\"alg\":\"scrypt\"") != std::string::npos);
  test::clear_table();
  CHECK(import_text(text, [] { return kPassphrase; }).written);
  CHECK(test::store().get(before.front().id, Secrets::reveal).details == before.front().details);
}

TEST_CASE("without a passphrase secrets are left out and listed; import brings the rest back") {
  const auto before = seed_records();
  const std::string text = export_text();
  CHECK(text.find("s3 cr") == std::string::npos);
  CHECK(text.find("pw-B-MARKER") == std::string::npos);
  CHECK(text.find("\"redacted\":[\"password\"]") != std::string::npos);
  CHECK(text.find("sealed_secrets") == std::string::npos);

  test::clear_table();
  const auto report = import_text(text);
  CHECK(report.written);
  CHECK(report.without_secrets == 2);
  const auto restored = test::store().get(before.front().id, Secrets::reveal);
  CHECK(restored.details.find("password") == nullptr);
  CHECK(restored.details.find_string("host") != nullptr);
}

TEST_CASE("a wrong or missing passphrase fails every sealed line and writes nothing") {
  seed_records();
  const std::string text = export_text(sealed());
  test::clear_table();
  auto report = import_text(text, [] { return std::string("wrong passphrase!"); });
  CHECK_FALSE(report.written);
  REQUIRE(report.errors.size() == 2);
  CHECK(report.errors[0].line == 1);
  CHECK(report.errors[0].code == datahub::ErrorCode::integrity);
  CHECK(report.errors[0].message.find("wrong passphrase") != std::string::npos);
  CHECK(test::row_count() == 0);

  report = import_text(text);
  REQUIRE(report.errors.size() == 2);
  CHECK(report.errors[0].code == datahub::ErrorCode::key_unavailable);
  CHECK(test::row_count() == 0);
}

TEST_CASE("bad lines are reported by number, with the field, and nothing is imported") {
  seed_records();
  std::istringstream lines(export_text(sealed()));
  std::string first, second, third;
  std::getline(lines, first);
  std::getline(lines, second);
  std::getline(lines, third);
  // Line 2: pointed at another host without the passphrase: its secrets no longer open.
  std::string moved = second;
  moved.replace(moved.find("reports.internal"), 16, "attacker.example");
  // Line 4: a name too long; line 5: not JSON; line 6: an unknown column; line 7: id repeated.
  std::string long_name = third;
  long_name.replace(long_name.find("No secret"), 9, std::string(120, 'n'));
  const std::string text = first + "\n" + moved + "\n\n" + long_name + "\n{not json\n" +
                           R"({"id":9,"nme":"x"})" + "\n" + first + "\n";
  test::clear_table();
  const auto report = import_text(text, [] { return kPassphrase; });
  CHECK_FALSE(report.written);
  CHECK(test::row_count() == 0);
  REQUIRE(report.errors.size() == 5);
  CHECK(report.errors[0].line == 2);
  CHECK(report.errors[0].code == datahub::ErrorCode::integrity);
  CHECK(report.errors[1].line == 4);
  CHECK(report.errors[1].message.rfind("name:", 0) == 0);
  CHECK(report.errors[2].line == 5);
  CHECK(report.errors[3].line == 6);
  CHECK(report.errors[3].message.rfind("nme:", 0) == 0);
  CHECK(report.errors[4].line == 7);
  CHECK(report.errors[4].message.find("line 1") != std::string::npos);
  for (const auto& e : report.errors) CHECK(e.message.find("s3 cr") == std::string::npos);
}

TEST_CASE("importing over existing ids is a conflict and changes nothing") {
  seed_records();
  const std::string text = export_text(sealed());
  CHECK_THROWS_AS(import_text(text, [] { return kPassphrase; }), datahub::Conflict);
  CHECK(test::row_count() == 3);
}

TEST_CASE("a dry run checks everything and writes nothing; a short passphrase is refused") {
  seed_records();
  const std::string text = export_text(sealed());
  test::clear_table();
  std::istringstream in(text);
  datahub::ImportOptions options;
  options.passphrase = [] { return kPassphrase; };
  options.dry_run = true;
  const auto report = datahub::import_connections(test::store(), in, options);
  CHECK(report.errors.empty());
  CHECK(report.records == 3);
  CHECK_FALSE(report.written);
  CHECK(test::row_count() == 0);

  datahub::ExportOptions weak;
  weak.passphrase = "short";
  std::ostringstream out;
  CHECK_THROWS_AS(datahub::export_connections(test::store(), out, weak), datahub::InvalidArgument);
}

namespace {

std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

// The sealed line's "kdf":{...},"salt":"..." replaced by these.
std::string with_kdf(const std::string& line, const std::string& kdf, const std::string& salt) {
  const auto from = line.find("\"kdf\":");
  const auto to = line.find("\"aead\":");
  REQUIRE(from != std::string::npos);
  REQUIRE(to != std::string::npos);
  return line.substr(0, from) + "\"kdf\":" + kdf + ",\"salt\":\"" + salt + "\"," + line.substr(to);
}

}  // namespace

TEST_CASE("hostile lines: each is a typed error naming no value, and the table is unchanged") {
  seed_records();
  const std::string sealed_line = first_line(export_text(sealed()));
  const std::string before = table_snapshot();
  // A good line (its id is taken, but a file with a bad line is never restored), spoilt
  // one way per case; only that defect can fail it.
  const std::string& line = sealed_line;
  const std::string id = line.substr(0, line.find(',') + 1);  // {"id":N,
  // {case, line, what its message must say ("" where a typed error is all it shows)}.
  struct Case {
    std::string name, line, says;
  };
  const std::vector<Case> cases = {
      {"text after a NUL byte", line + std::string("\0{\"junk\":1}", 11), "NUL"},
      {"a NUL byte inside", replaced(line, "\"name\":", std::string("\"name\"\0:", 8)), "NUL"},
      {"a duplicate id", replaced(line, id, id + "\"id\":999,"), "appears twice"},
      {"a duplicate kdf member", replaced(line, "\"t\":3,", "\"t\":3,\"t\":1,"), "appears twice"},
      {"a duplicate sealed member", replaced(line, "\"aead\":", "\"v\":1,\"aead\":"), "appears twice"},
      {"an unknown member holding a pasted secret", replaced(line, "{\"id\"", "{\"pw-B-MARKER\":1,\"id\""), "<member>"},
      {"a string id", replaced(line, id, "{\"id\":\"1\","), ""},
      {"a huge id", replaced(line, id, "{\"id\":99999999999999999999,"), ""},
      {"tags not an array", replaced(line, "\"tags\":[", "\"tags\":\"x\",\"x\":["), ""},
      {"version 2", replaced(line, "{\"v\":1,", "{\"v\":2,"), ""},
      {"an empty ct", line.substr(0, line.find("\"ct\":\"") + 6) + "\"}}", ""},
      {"invalid UTF-8", replaced(line, "Production", "Pro\xC3\x28uction"), ""},
      {"truncated", line.substr(0, line.size() / 2), ""},
      // How a NULL or infinite time read: restored, it became 1970 (exports wrote it so).
      {"a time at the epoch", replaced(line, line.substr(line.find("\"created_at\":"), 42),
                                       "\"created_at\":\"1970-01-01T00:00:00.000000Z\""),
       "created_at: is the epoch"},
  };
  // Each case alone, so that no error of another line (an id seen twice in the file) can
  // stand in for the one the case is about.
  for (const auto& c : cases) {
    CAPTURE(c.name);
    const auto report = import_text(c.line + "\n", [] { return kPassphrase; });
    CHECK_FALSE(report.written);
    REQUIRE(report.errors.size() == 1);
    const auto code = report.errors[0].code;
    CHECK((code == datahub::ErrorCode::invalid_argument || code == datahub::ErrorCode::integrity));
    CHECK(report.errors[0].message.find(c.says) != std::string::npos);
    CHECK(report.errors[0].message.find("MARKER") == std::string::npos);
    CHECK(report.errors[0].message.find("s3 cr") == std::string::npos);
  }
  CHECK(table_snapshot() == before);
}

TEST_CASE("an over-long line ends the reading there: its end may never come") {
  seed_records();
  const std::string good = first_line(export_text());
  // 64 MiB with no line end after a good line (/dev/zero, a binary file). It was read to
  // its end, which /dev/zero never reaches.
  test::EndlessBytes endless(good + "\n", 'x', std::size_t{64} << 20);
  std::istream in(&endless);
  test::clear_table();  // the good line would be written if the import went on
  const auto report = datahub::import_connections(test::store(), in);
  CHECK_FALSE(report.written);
  REQUIRE(report.errors.size() == 1);
  CHECK(report.errors[0].line == 2);
  CHECK(report.errors[0].message.find("longer than") != std::string::npos);
  CHECK(report.errors[0].message.find("the rest of the input was not read") != std::string::npos);
  CHECK(endless.served() < (std::size_t{2} << 20));
  CHECK(table_snapshot().empty());
}

TEST_CASE("the 100th bad line ends the reading: a file that is not an export is not read to its end") {
  seed_records();
  const std::string before = table_snapshot();
  std::string text;
  for (int i = 0; i < 150; ++i) text += "{not json\n";
  const auto report = import_text(text);
  CHECK_FALSE(report.written);
  REQUIRE(report.errors.size() == 101);
  CHECK(report.errors[99].line == 100);
  CHECK(report.errors[100].message.find("the rest of the input was not read") != std::string::npos);
  CHECK(table_snapshot() == before);
}

TEST_CASE("export refuses a row that import would refuse or change, naming it, and writes nothing") {
  // Rows other clients wrote: the table allows what create() refuses. Each was exported
  // (exit 0) and then failed the restore, or came back with a 1970 created_at.
  struct Case {
    const char* sql;  // applied to the second record
    const char* says;
  };
  const Case cases[] = {
      {"updated_at = created_at - interval '1 day'", "updated_at: is before created_at"},
      {"name = ''", ".name:"},
      {"created_by = ''", ".created_by:"},
      {"tags = ARRAY['']", ".tags"},
      {"tags = ARRAY(SELECT 't' || g FROM generate_series(1, 101) AS g)", ".tags"},
      {"tags = ARRAY['a', 'b', 'a']", ".tags: holds a tag twice"},
      {"created_at = NULL", "created_at: is the epoch"},
      {"updated_at = 'infinity'", "updated_at: is the epoch"},
      {"updated_at = '10000-01-01 00:00:00+00'", "updated_at: is the epoch"},
      {"type = 'MYSQL'", ".type:"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.sql);
    const auto records = seed_records();
    const std::int64_t id = records[1].id;
    test::admin_exec(std::string("UPDATE database_connections SET ") + c.sql +
                     " WHERE id = " + std::to_string(records[1].id));
    for (const auto& options : {datahub::ExportOptions{}, sealed()}) {
      std::ostringstream out;
      try {
        datahub::export_connections(test::store(), out, options);
        FAIL("exported a row import would not restore as it is");
      } catch (const datahub::InvalidArgument& e) {
        const std::string what = e.what();
        CHECK(what.find(c.says) != std::string::npos);
        CHECK(what.find("connection " + std::to_string(id) + ")") != std::string::npos);
        CHECK(what.find("MARKER") == std::string::npos);
      }
      CHECK(out.str().empty());
    }
  }
  // A row another client gave id 0 was left out of the export, which exited 0 (list()
  // started at id 1). It is seen now, and fails the export loudly (its id is bound to its
  // ciphertext, so it does not open either).
  const auto records = seed_records();
  test::admin_exec("UPDATE database_connections SET id = 0 WHERE id = " + std::to_string(records[1].id));
  std::ostringstream out;
  try {
    datahub::export_connections(test::store(), out);
    FAIL("exported without the row of id 0");
  } catch (const datahub::Error& e) {
    CHECK(std::string(e.what()).find("connection 0 ") != std::string::npos);
  }
  CHECK(out.str().empty());
}

TEST_CASE("a line's redacted names only secrets it left out") {
  // A hand-edited line kept its password in clear yet listed it: it was imported, and
  // counted as without secrets.
  seed_records();
  const std::string line = first_line(export_text());
  REQUIRE(line.find(R"("redacted":["password"])") != std::string::npos);
  const std::string in_clear = replaced(line, R"("username":)", R"("password":"CLEAR-MARKER","username":)");
  const std::string not_secret = replaced(line, R"("redacted":["password"])", R"("redacted":["host"])");
  const std::string unknown = replaced(line, R"("redacted":["password"])", R"("redacted":["nosuch"])");
  test::clear_table();
  for (const auto& text : {in_clear, not_secret, unknown}) {
    const auto report = import_text(text + "\n");
    CHECK_FALSE(report.written);
    REQUIRE(report.errors.size() == 1);
    CHECK(report.errors[0].message.rfind("redacted: ", 0) == 0);
    CHECK(report.errors[0].message.find("MARKER") == std::string::npos);
  }
  CHECK(table_snapshot().empty());
}

TEST_CASE("key-stretching parameters beyond the work limit are refused before any stretching") {
  seed_records();
  const std::string line = first_line(export_text(sealed()));
  const std::string salt = "oCgnvWzDUS3PPweX6Ysm9A==";
  // Each within its own range, but together: 4 GiB of scrypt with 16 passes (minutes), and
  // 1 GiB of Argon2id with 20 (half a minute).
  const std::string text = with_kdf(line, R"({"alg":"scrypt","N":1048576,"r":32,"p":16})", salt) + "\n" +
                           with_kdf(line, R"({"alg":"argon2id","m":1048576,"t":20,"p":1})", salt) + "\n";
  test::clear_table();
  const auto started = std::chrono::steady_clock::now();
  const auto report = import_text(text, [] { return kPassphrase; });
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(2));
  REQUIRE(report.errors.size() == 2);
  for (const auto& e : report.errors) {
    CHECK(e.code == datahub::ErrorCode::invalid_argument);
    CHECK(e.message.rfind("sealed_secrets.kdf", 0) == 0);
  }
  CHECK(test::row_count() == 0);
}

TEST_CASE("the stretching work of one import is bounded across salts") {
  seed_records();
  const std::string line = first_line(export_text(sealed()));
  // scrypt N=2^17, p=4: 16 times the default's work (~2 s), the most one line may ask for.
  const std::string kdf = R"({"alg":"scrypt","N":131072,"r":8,"p":4})";
  const std::string text = with_kdf(line, kdf, "AAAAAAAAAAAAAAAAAAAAAA==") + "\n" +
                           with_kdf(line, kdf, "AQAAAAAAAAAAAAAAAAAAAA==") + "\n" +
                           with_kdf(line, kdf, "AgAAAAAAAAAAAAAAAAAAAA==") + "\n";
  test::clear_table();
  const auto report = import_text(text, [] { return kPassphrase; });
  REQUIRE(report.errors.size() == 3);
  CHECK(report.errors[0].code == datahub::ErrorCode::integrity);  // stretched, did not open
  CHECK(report.errors[1].code == datahub::ErrorCode::integrity);
  CHECK(report.errors[2].code == datahub::ErrorCode::invalid_argument);
  CHECK(report.errors[2].message.find("more key stretching") != std::string::npos);
  CHECK(test::row_count() == 0);
}
