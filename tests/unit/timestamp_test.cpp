// format_timestamp / parse_timestamp: ISO-8601, UTC, microseconds.
#include <datahub/connection.hpp>
#include <datahub/error.hpp>

#include <doctest/doctest.h>

#include <ctime>
#include <string>

using datahub::format_timestamp;
using datahub::InvalidArgument;
using datahub::parse_timestamp;
using datahub::Timestamp;
using std::chrono::microseconds;

namespace {

// Seconds since the epoch of a UTC calendar time, computed by the C library.
std::int64_t utc_seconds(int year, int month, int day, int hour, int minute, int second) {
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  return static_cast<std::int64_t>(timegm(&tm));
}

std::int64_t micros(Timestamp t) { return t.time_since_epoch().count(); }

Timestamp at_micros(std::int64_t us) { return Timestamp(microseconds(us)); }

}  // namespace

TEST_CASE("parse_timestamp of a known instant") {
  const std::int64_t expected = utc_seconds(2024, 3, 20, 10, 0, 0) * 1000000;
  CHECK(micros(parse_timestamp("2024-03-20T10:00:00.000000Z")) == expected);
  CHECK(micros(parse_timestamp("2024-03-20T10:00:00Z")) == expected);
  CHECK(micros(parse_timestamp("2024-03-20 10:00:00z")) == expected);
  CHECK(micros(parse_timestamp("2024-03-20T10:00:00.5Z")) == expected + 500000);
  CHECK(micros(parse_timestamp("2024-03-20T10:00:00.000123Z")) == expected + 123);
  CHECK(micros(parse_timestamp("1970-01-01T00:00:00Z")) == 0);
  CHECK(micros(parse_timestamp("2000-02-29T23:59:59.999999Z")) ==
        utc_seconds(2000, 2, 29, 23, 59, 59) * 1000000 + 999999);
}

TEST_CASE("parse_timestamp converts offsets to UTC") {
  const std::int64_t ten_utc = utc_seconds(2024, 3, 20, 10, 0, 0) * 1000000;
  CHECK(micros(parse_timestamp("2024-03-20T12:00:00+02:00")) == ten_utc);
  CHECK(micros(parse_timestamp("2024-03-20T04:30:00-05:30")) == ten_utc);
  CHECK(micros(parse_timestamp("2024-03-20T10:00:00+00:00")) == ten_utc);
  // Crossing a day boundary.
  CHECK(micros(parse_timestamp("2024-03-21T01:00:00.250000+15:00")) == ten_utc + 250000);
}

TEST_CASE("format_timestamp writes UTC with six fraction digits") {
  const std::int64_t base = utc_seconds(2024, 3, 20, 10, 0, 0) * 1000000;
  CHECK(format_timestamp(at_micros(base)) == "2024-03-20T10:00:00.000000Z");
  CHECK(format_timestamp(at_micros(base + 42)) == "2024-03-20T10:00:00.000042Z");
  CHECK(format_timestamp(at_micros(0)) == "1970-01-01T00:00:00.000000Z");
  CHECK(format_timestamp(at_micros(-1)) == "1969-12-31T23:59:59.999999Z");
}

TEST_CASE("format and parse round-trip at microsecond precision") {
  const std::int64_t samples[] = {0,
                                  1,
                                  -1,
                                  999999,
                                  utc_seconds(2024, 3, 20, 10, 0, 0) * 1000000 + 123456,
                                  utc_seconds(2038, 1, 19, 3, 14, 8) * 1000000 + 7,
                                  utc_seconds(1999, 12, 31, 23, 59, 59) * 1000000 + 999999};
  for (std::int64_t us : samples) {
    CAPTURE(us);
    const std::string text = format_timestamp(at_micros(us));
    CHECK(micros(parse_timestamp(text)) == us);
  }
  const Timestamp now = std::chrono::time_point_cast<microseconds>(std::chrono::system_clock::now());
  CHECK(parse_timestamp(format_timestamp(now)) == now);
}

TEST_CASE("parse_timestamp rejects malformed text, naming the field") {
  for (const char* bad : {"2024-03-20T10:00:00",              // no zone
                          "2024-03-20T10:00:00.000000",       // no zone
                          "2024-03-20T10:00:00.1234567Z",     // 7 fraction digits
                          "2024-03-20T10:00:00.Z",            // empty fraction
                          "2024-13-20T10:00:00Z",             // month 13
                          "2024-00-20T10:00:00Z",             // month 0
                          "2024-03-32T10:00:00Z",             // day 32
                          "2024-03-20T24:00:00Z",             // hour 24
                          "2024-03-20T10:60:00Z",             // minute 60
                          "2024-12-31T23:59:60Z",             // leap second: the server stores none
                          "2023-02-29T10:00:00Z",             // not a leap year
                          "1900-02-29T10:00:00Z",             // not a leap year either
                          "2024-02-30T10:00:00Z",             // no such day, not March 1st
                          "2024-04-31T10:00:00Z",             // April has 30
                          "2024-03-20T10:00:00+2:00",         // short offset
                          "2024-03-20T10:00:00+02",           // offset without minutes
                          "2024-03-20T10:00:00+24:00",        // offset hours
                          "2024-03-20T10:00:00Zjunk",         // trailing text
                          "2024-03-20",                       // date only
                          "2024/03/20T10:00:00Z",             // wrong separators
                          "24-03-20T10:00:00Z",               // short year
                          "garbage",
                          ""}) {
    CAPTURE(bad);
    try {
      parse_timestamp(bad, "expected_updated_at");
      FAIL("accepted");
    } catch (const InvalidArgument& e) {
      CHECK(e.field() == "expected_updated_at");
    }
  }
  try {
    parse_timestamp("nope");
    FAIL("accepted");
  } catch (const InvalidArgument& e) {
    CHECK(e.field() == "timestamp");
  }
}
