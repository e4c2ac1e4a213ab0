// Import a batch at a time: memory stays flat however long the file, and a failure after
// batches were written still leaves the table unchanged.
#include "support.hpp"
#include "transfer_support.hpp"

#include <datahub/transfer.hpp>

#include <doctest/doctest.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <utility>

#include <malloc.h>
#include <unistd.h>

using test::import_text;
using test::replaced;
using test::table_snapshot;

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
