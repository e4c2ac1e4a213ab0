// export -> empty table -> import gives the same records; secrets never in clear.
#include "support.hpp"

#include <datahub/transfer.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <utility>
#include <vector>

#include <malloc.h>
#include <unistd.h>

using datahub::Secrets;

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

datahub::ImportReport import_text(const std::string& text, std::function<std::string()> passphrase = {}) {
  std::istringstream in(text);
  datahub::ImportOptions options;
  options.passphrase = std::move(passphrase);
  return datahub::import_connections(test::store(), in, options);
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

// The table's rows as text, to show that a refused import changed nothing.
std::string table_snapshot() {
  std::string out;
  for (const auto& c : test::store().list({}, Secrets::reveal).items) {
    out += std::to_string(c.id) + "|" + c.name + "|" + datahub::format_timestamp(c.updated_at) + "|";
    for (const auto& [field, value] : c.details) {
      const auto* text = std::get_if<std::string>(&value);
      out += field + "=" + (text ? *text : std::to_string(std::get<std::int64_t>(value))) + ";";
    }
    out += "\n";
  }
  return out;
}

// `line` with the first occurrence of `from` replaced by `to`.
std::string replaced(std::string line, const std::string& from, const std::string& to) {
  const auto at = line.find(from);
  REQUIRE(at != std::string::npos);
  return line.replace(at, from.size(), to);
}

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

TEST_CASE("an over-long line is refused without being held, and the lines after it keep their numbers") {
  seed_records();
  const std::string before = table_snapshot();
  const std::string huge = "{\"id\":1,\"name\":\"" + std::string(3u << 20, 'x') + "\"}";
  const auto report = import_text(huge + "\n{not json\n");
  CHECK_FALSE(report.written);
  REQUIRE(report.errors.size() == 2);
  CHECK(report.errors[0].line == 1);
  CHECK(report.errors[0].message.find("longer than") != std::string::npos);
  CHECK(report.errors[1].line == 2);
  CHECK(table_snapshot() == before);
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

namespace {

// One small valid line (secrets left out) with this id.
std::string bulk_line(std::int64_t id) {
  return R"({"id":)" + std::to_string(id) + R"(,"name":"bulk )" + std::to_string(id) +
         R"(","description":null,"type":"POSTGRESQL","connection_details":{"host":"db.example","port":5432,)"
         R"("database":"main","username":"app"},"tags":["bulk"],"created_at":"2024-03-20T10:00:00.000000Z",)"
         R"("created_by":"u1","updated_at":"2024-03-20T10:00:00.000000Z","updated_by":"u1","redacted":["password"]})";
}

// A file of `count` such lines, ids 1..count, but for the lines in `spoilt` (by number);
// written line by line, so the test's own memory does not grow with it.
std::string write_bulk_file(std::int64_t count, const std::map<std::int64_t, std::string>& spoilt = {}) {
  const std::string path = "/tmp/datahub-import-" + std::to_string(::getpid()) + ".jsonl";
  std::ofstream out(path, std::ios::trunc);
  for (std::int64_t id = 1; id <= count; ++id) {
    const auto it = spoilt.find(id);
    out << (it == spoilt.end() ? bulk_line(id) : it->second) << '\n';
  }
  REQUIRE(out.good());
  return path;
}

long status_kib(const char* key) {
  std::ifstream status("/proc/self/status");
  const std::string prefix = std::string(key) + ":";
  for (std::string line; std::getline(status, line);) {
    if (line.rfind(prefix, 0) == 0) return std::stol(line.substr(prefix.size()));
  }
  return -1;
}

datahub::ImportReport import_file(const std::string& path) {
  std::ifstream in(path);
  return datahub::import_connections(test::store(), in);
}

}  // namespace

// AddressSanitizer holds freed memory in quarantine rather than reuse it, so a peak there
// grows with all that was ever allocated: the memory bounds are checked in plain builds.
#if defined(__SANITIZE_ADDRESS__)
#define DATAHUB_HEAP_REUSED 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define DATAHUB_HEAP_REUSED 0
#endif
#endif
#ifndef DATAHUB_HEAP_REUSED
#define DATAHUB_HEAP_REUSED 1
#endif

namespace {

// The import of `path` (then removed), and how far the peak of the process's resident
// memory rose above what it was before.
std::pair<datahub::ImportReport, long> import_measured(const std::string& path) {
  ::malloc_trim(0);  // freed memory back to the system, so that reusing it cannot hide growth
  {
    std::ofstream clear("/proc/self/clear_refs");
    clear << "5";  // VmHWM := VmRSS
    REQUIRE(clear.good());
  }
  const long before = status_kib("VmHWM");
  auto report = import_file(path);
  const long grown = status_kib("VmHWM") - before;
  std::remove(path.c_str());
  return {std::move(report), grown};
}

}  // namespace

TEST_CASE("import holds one batch of records, not the file: peak memory stays flat however long the file") {
  constexpr std::int64_t kLines = 40000;
  test::clear_table();
  const auto [report, grown] = import_measured(write_bulk_file(kLines));
  MESSAGE("peak memory growth importing " << kLines << " lines: " << grown << " KiB");
  CHECK(report.written);
  CHECK(report.records == kLines);
  CHECK(test::row_count() == kLines);
  // Holding every record took ~100 MiB for these 40,000 lines; one batch takes ~4 MiB.
  if (DATAHUB_HEAP_REUSED) CHECK(grown < 16 * 1024);
}

TEST_CASE("import holds big records fewer at a time: a batch is also cut at 8 MiB of lines") {
  // Lines of ~180 KiB: a 10,000-character description and 100 tags of 200, all escaped.
  std::string description, tag;
  for (int i = 0; i < 10000; ++i) description += "\\u00e9";
  for (int i = 0; i < 198; ++i) tag += "\\u00e9";
  std::string tags = "[";
  for (int i = 0; i < 100; ++i) tags += (i ? ",\"" : "\"") + tag + std::to_string(100 + i).substr(1) + "\"";
  tags += "]";
  std::map<std::int64_t, std::string> big;
  for (std::int64_t id = 1; id <= 400; ++id) {
    std::string line = replaced(bulk_line(id), "\"description\":null", "\"description\":\"" + description + "\"");
    big[id] = replaced(line, "[\"bulk\"]", tags);
  }
  const std::string path = write_bulk_file(400, big);
  big.clear();
  test::clear_table();
  const auto [report, grown] = import_measured(path);
  MESSAGE("peak memory growth importing 400 lines of 180 KiB: " << grown << " KiB");
  CHECK(report.written);
  CHECK(test::row_count() == 400);
  // The 400 records in one batch took ~75 MiB; 8 MiB of lines take ~11 MiB.
  if (DATAHUB_HEAP_REUSED) CHECK(grown < 32 * 1024);
}

namespace {

long long relation_size() { return test::admin_scalar("SELECT pg_relation_size('database_connections')"); }

long long sequence_value() {
  return test::admin_scalar(
      "SELECT COALESCE(pg_sequence_last_value(CAST(pg_get_serial_sequence('database_connections', 'id') AS "
      "regclass)), 0)");
}

// An empty table (its file truncated too, so that its size shows rows written and rolled
// back) holding the one record of `line`.
void table_with(const std::string& line) {
  test::clear_table();
  test::admin_exec("TRUNCATE database_connections");
  REQUIRE(import_text(line + "\n").written);
}

}  // namespace

TEST_CASE("a bad line late in a long file, after batches were written, leaves the table unchanged") {
  table_with(bulk_line(90001));
  const std::string before = table_snapshot();
  const long long size_before = relation_size(), sequence_before = sequence_value();
  // Five batches of 1000; lines 1-4000 are written before line 4500 is read. Reading goes on
  // after it, and the repeated id of line 4900 is reported too.
  std::string long_name = bulk_line(4500);
  long_name.replace(long_name.find("bulk 4500"), 9, std::string(120, 'n'));
  const std::string path = write_bulk_file(5000, {{4500, long_name}, {4900, bulk_line(1)}});
  const auto report = import_file(path);
  std::remove(path.c_str());
  CHECK_FALSE(report.written);
  REQUIRE(report.errors.size() == 2);
  CHECK(report.errors[0].line == 4500);
  CHECK(report.errors[0].message.rfind("name:", 0) == 0);
  CHECK(report.errors[1].line == 4900);
  CHECK(report.errors[1].message == "id: is also on line 1");
  CHECK(report.records == 4998);
  CHECK(table_snapshot() == before);
  CHECK(sequence_value() == sequence_before);
  // The batches before line 4500 did reach the table, inside the transaction rolled back.
  CHECK(relation_size() > 10 * size_before);
}

TEST_CASE("a taken id late in a long file is a conflict, after batches were written, and changes nothing") {
  table_with(bulk_line(4800));
  const std::string before = table_snapshot();
  const long long size_before = relation_size(), sequence_before = sequence_value();
  std::string path = write_bulk_file(5000);
  try {
    import_file(path);
    FAIL("the import wrote over a taken id");
  } catch (const datahub::Conflict& e) {
    CHECK(std::string(e.what()).find("connection 4800 already exists") != std::string::npos);
  }
  CHECK(table_snapshot() == before);
  CHECK(sequence_value() == sequence_before);
  CHECK(relation_size() > 10 * size_before);

  // A bad line after the taken id: the report lists it, as when nothing was written yet.
  path = write_bulk_file(5000, {{4950, "{not json"}});
  const auto report = import_file(path);
  std::remove(path.c_str());
  CHECK_FALSE(report.written);
  REQUIRE(report.errors.size() == 1);
  CHECK(report.errors[0].line == 4950);
  CHECK(table_snapshot() == before);
}

TEST_CASE("a repeated id is named with its first line whatever the order of the ids") {
  test::clear_table();
  // Ids 1-10007 in a scrambled order (7919 is prime to 10007), then two seen long before.
  std::map<std::int64_t, std::string> lines;
  const auto id_on = [](std::int64_t line) { return (line * 7919) % 10007 + 1; };
  for (std::int64_t line = 1; line <= 10000; ++line) lines[line] = bulk_line(id_on(line));
  lines[10001] = bulk_line(id_on(5000));
  lines[10002] = bulk_line(id_on(1));
  const std::string path = write_bulk_file(10002, lines);
  std::ifstream in(path);
  datahub::ImportOptions dry;
  dry.dry_run = true;
  const auto report = datahub::import_connections(test::store(), in, dry);
  std::remove(path.c_str());
  CHECK(report.records == 10000);
  REQUIRE(report.errors.size() == 2);
  CHECK(report.errors[0].line == 10001);
  CHECK(report.errors[0].message == "id: is also on line 5000");
  CHECK(report.errors[1].line == 10002);
  CHECK(report.errors[1].message == "id: is also on line 1");
  CHECK(test::row_count() == 0);
}
