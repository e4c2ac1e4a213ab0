// Import files that are not what they claim: the failures are typed, the table unchanged.
#include "support.hpp"
#include "transfer_support.hpp"

#include <datahub/error.hpp>
#include <datahub/transfer.hpp>

#include <doctest/doctest.h>

#include <unistd.h>

#include <fstream>
#include <sstream>
#include <streambuf>
#include <string>

namespace {

// A stream buffer whose reads fail after `good` bytes of `text`, as a file's do on EIO.
class FailingBuffer : public std::streambuf {
 public:
  FailingBuffer(std::string text, std::size_t good) : text_(std::move(text)), good_(good) {}

 protected:
  int_type underflow() override {
    if (at_ >= good_) throw std::ios_base::failure("read error");
    setg(&text_[at_], &text_[at_], &text_[at_] + 1);
    ++at_;
    return traits_type::to_int_type(text_[at_ - 1]);
  }

 private:
  std::string text_;
  std::size_t good_, at_ = 0;
};

datahub::NewConnection record(const std::string& name) {
  datahub::NewConnection c;
  c.name = name;
  c.details.set("host", "h").set("database", "d").set("username", "u");
  return c;
}

}  // namespace

TEST_CASE("an import whose input is a directory is Error(internal), not a foreign exception, and writes nothing") {
  test::clear_table();
  test::store().create(record("kept"), "t");
  const std::string before = test::table_snapshot();
  char dir[] = "/tmp/dh-import-dir-XXXXXX";
  REQUIRE(mkdtemp(dir) != nullptr);
  {
    std::ifstream in(dir, std::ios::binary);
    REQUIRE(in.is_open());  // opening a directory succeeds; the first read fails
    try {
      datahub::import_connections(test::store(), in);
      FAIL("a directory imported");
    } catch (const datahub::Error& e) {
      CHECK(e.code() == datahub::ErrorCode::internal);
    } catch (const std::exception& e) {
      FAIL("not a datahub::Error: " << std::string(e.what()));
    }
  }
  rmdir(dir);
  CHECK(test::table_snapshot() == before);
}

TEST_CASE("a read error after a good line fails the import as Error(internal), and nothing is written") {
  test::clear_table();
  const auto kept = test::store().create(record("kept"), "t");
  const auto moved = test::store().create(record("exported"), "t");
  std::ostringstream out;
  datahub::export_connections(test::store(), out);
  test::store().remove(moved.id);
  const std::string before = test::table_snapshot();
  std::string text = out.str();
  text = text.substr(text.find('\n') + 1);  // the line of `moved` only
  REQUIRE(text.find("\"exported\"") != std::string::npos);
  FailingBuffer buffer(text + text, text.size());  // the line, then a failing read
  std::istream in(&buffer);
  try {
    datahub::import_connections(test::store(), in);
    FAIL("a failing input imported");
  } catch (const datahub::Error& e) {
    CHECK(e.code() == datahub::ErrorCode::internal);
  } catch (const std::exception& e) {
    FAIL("not a datahub::Error: " << std::string(e.what()));
  }
  CHECK(test::table_snapshot() == before);
  CHECK(test::store().get(kept.id).name == "kept");
}

TEST_CASE("a file that starts with a byte-order mark is refused by name on its first line, and nothing is written") {
  test::clear_table();
  const auto moved = test::store().create(record("exported"), "t");
  std::ostringstream out;
  datahub::export_connections(test::store(), out);
  test::store().remove(moved.id);
  const std::string before = test::table_snapshot();
  std::istringstream in("\xEF\xBB\xBF" + out.str());
  const datahub::ImportReport report = datahub::import_connections(test::store(), in);
  CHECK_FALSE(report.written);
  REQUIRE(report.errors.size() == 1);
  CHECK(report.errors[0].line == 1);
  CHECK(report.errors[0].code == datahub::ErrorCode::invalid_argument);
  CHECK(report.errors[0].message.find("byte-order mark") != std::string::npos);
  CHECK(test::table_snapshot() == before);
}
