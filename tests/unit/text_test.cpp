// model/text.hpp and model/validation.hpp: UTF-8 checks and the seed's column limits.
#include "model/text.hpp"
#include "model/validation.hpp"
#include "unit_support.hpp"

#include <datahub/error.hpp>

#include <doctest/doctest.h>

#include <string>
#include <vector>

using datahub::InvalidArgument;
using namespace datahub::model;
using namespace std::string_literals;
using unit::field_of;

namespace {
const std::string kEmoji = "\xF0\x9F\x98\x80";  // U+1F600, 4 bytes

std::string repeat(const std::string& s, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out += s;
  return out;
}

}  // namespace

TEST_CASE("is_clean_utf8 accepts valid text") {
  CHECK(is_clean_utf8(""));
  CHECK(is_clean_utf8("plain ASCII 123 !~"));
  CHECK(is_clean_utf8("caf\xC3\xA9"));                   // 2-byte é
  CHECK(is_clean_utf8("\xE2\x82\xAC 10"));               // 3-byte €
  CHECK(is_clean_utf8(kEmoji));                          // 4-byte
  CHECK(is_clean_utf8("\xEF\xBF\xBF\xF4\x8F\xBF\xBF"));  // U+FFFF, U+10FFFF
}

TEST_CASE("is_clean_utf8 rejects bad bytes") {
  SUBCASE("NUL anywhere") {
    CHECK_FALSE(is_clean_utf8("ab\0cd"s));
    CHECK_FALSE(is_clean_utf8("\0"s));
    CHECK_FALSE(is_clean_utf8("abc\0"s));
  }
  SUBCASE("truncated sequences") {
    CHECK_FALSE(is_clean_utf8("\xC3"));
    CHECK_FALSE(is_clean_utf8("ab\xE2\x82"));
    CHECK_FALSE(is_clean_utf8("\xF0\x9F\x98"));
    CHECK_FALSE(is_clean_utf8("\xE2\x82x"));  // continuation replaced by ASCII
  }
  SUBCASE("stray continuation byte") { CHECK_FALSE(is_clean_utf8("a\x80" "b")); }
  SUBCASE("overlong encodings") {
    CHECK_FALSE(is_clean_utf8("\xC0\xAF"));          // '/'
    CHECK_FALSE(is_clean_utf8("\xC1\xBF"));
    CHECK_FALSE(is_clean_utf8("\xE0\x80\xAF"));
    CHECK_FALSE(is_clean_utf8("\xF0\x80\x80\xAF"));
    CHECK_FALSE(is_clean_utf8("\xC0\x80"));          // "modified UTF-8" NUL
  }
  SUBCASE("UTF-16 surrogates") {
    CHECK_FALSE(is_clean_utf8("\xED\xA0\x80"));  // U+D800
    CHECK_FALSE(is_clean_utf8("\xED\xBF\xBF"));  // U+DFFF
    CHECK(is_clean_utf8("\xED\x9F\xBF"));        // U+D7FF, just below: valid
  }
  SUBCASE("beyond U+10FFFF and bytes F5-FF") {
    CHECK_FALSE(is_clean_utf8("\xF4\x90\x80\x80"));
    for (int b = 0xF5; b <= 0xFF; ++b) {
      const std::string s{'a', static_cast<char>(b), '\x80', '\x80', '\x80'};
      CAPTURE(b);
      CHECK_FALSE(is_clean_utf8(s));
    }
  }
}

TEST_CASE("utf8_length counts code points, not bytes") {
  CHECK(utf8_length("") == 0);
  CHECK(utf8_length("abc") == 3);
  CHECK(utf8_length("caf\xC3\xA9") == 4);
  CHECK(utf8_length("\xE2\x82\xAC") == 1);
  CHECK(utf8_length(repeat(kEmoji, 7)) == 7);
  CHECK(repeat(kEmoji, 7).size() == 28);
}

TEST_CASE("check_text limits are in characters") {
  CHECK_NOTHROW(check_text(repeat(kEmoji, 100), "f", 1, 100));  // 400 bytes, 100 chars
  CHECK_THROWS_AS(check_text(repeat(kEmoji, 101), "f", 1, 100), InvalidArgument);
  CHECK_NOTHROW(check_text(repeat("a", 100), "f", 1, 100));
  CHECK(field_of([] { check_text(repeat("a", 101), "my.field", 1, 100); }) == "my.field");
  CHECK(field_of([] { check_text("", "my.field", 1, 100); }) == "my.field");
  CHECK_NOTHROW(check_text("", "f", 0, 10));
  CHECK(field_of([] { check_text("a\xC0\xAF", "bad", 0, 10); }) == "bad");
  CHECK(field_of([] { check_text("a\0b"s, "nul", 0, 10); }) == "nul");
}

TEST_CASE("check_name: 1 to 100 characters") {
  CHECK_NOTHROW(check_name("x"));
  CHECK_NOTHROW(check_name(repeat("n", 100)));
  CHECK_NOTHROW(check_name(repeat(kEmoji, 100)));
  CHECK(field_of([] { check_name(""); }) == "name");
  CHECK(field_of([] { check_name(repeat("n", 101)); }) == "name");
  CHECK(field_of([] { check_name(repeat(kEmoji, 101)); }) == "name");
  CHECK(field_of([] { check_name("bad\xFF"); }) == "name");
}

TEST_CASE("check_actor: 1 to 50 characters, named by the caller") {
  CHECK_NOTHROW(check_actor("alice", "created_by"));
  CHECK_NOTHROW(check_actor(repeat("a", 50), "created_by"));
  CHECK(field_of([] { check_actor(repeat("a", 51), "created_by"); }) == "created_by");
  CHECK(field_of([] { check_actor("", "updated_by"); }) == "updated_by");
  CHECK(field_of([] { check_actor("a\0"s, "updated_by"); }) == "updated_by");
}

TEST_CASE("normalize_tags") {
  SUBCASE("duplicates removed, first-occurrence order kept") {
    const std::vector<std::string> in{"prod", "eu", "prod", "db", "eu"};
    CHECK(normalize_tags(in) == std::vector<std::string>{"prod", "eu", "db"});
  }
  SUBCASE("case matters") {
    CHECK(normalize_tags({"Prod", "prod"}).size() == 2);
  }
  SUBCASE("no tags is fine") { CHECK(normalize_tags({}).empty()); }
  SUBCASE("empty tag named by index") {
    CHECK(field_of([] { normalize_tags({"a", "b", ""}); }) == "tags[2]");
    CHECK(field_of([] { normalize_tags({""}, "filter.tags"); }) == "filter.tags[0]");
  }
  SUBCASE("NUL and invalid UTF-8 rejected") {
    CHECK(field_of([] { normalize_tags({"ok", "a\0b"s}); }) == "tags[1]");
    CHECK(field_of([] { normalize_tags({"\xED\xA0\x80"}); }) == "tags[0]");
  }
  SUBCASE("tag length in characters") {
    CHECK_NOTHROW(normalize_tags({repeat(kEmoji, kTagMaxChars)}));
    CHECK(field_of([] { normalize_tags({repeat("t", kTagMaxChars + 1)}); }) == "tags[0]");
  }
  SUBCASE("too many distinct tags") {
    std::vector<std::string> many;
    for (std::size_t i = 0; i <= kMaxTags; ++i) many.push_back("t" + std::to_string(i));
    CHECK(field_of([&] { normalize_tags(many); }) == "tags");
    many.back() = "t0";  // a duplicate: now exactly kMaxTags distinct
    CHECK(normalize_tags(many).size() == kMaxTags);
  }
}

TEST_CASE("name_for_message: bounded, escaped, valid UTF-8") {
  CHECK(name_for_message("host") == "host");
  CHECK(name_for_message("") == "");
  CHECK(name_for_message("a\0b\x1b[2J\x7f"s) == "a\\u0000b\\u001b[2J\\u007f");
  CHECK(name_for_message(std::string(64, 'x')) == std::string(64, 'x'));
  CHECK(name_for_message(std::string(65, 'x')) == std::string(64, 'x') + "...");
  // Cut on a code point boundary: 63 ASCII bytes and an emoji keep 63 bytes, not half of it.
  const std::string cut = name_for_message(std::string(63, 'x') + kEmoji);
  CHECK(cut == std::string(63, 'x') + "...");
  CHECK(is_clean_utf8(name_for_message(repeat(kEmoji, 40))));
  CHECK(name_for_message("bad \xC0\xAF") == "(not UTF-8)");
  CHECK(name_for_message("csi\xC2\x9B" "2J \xC2\xA0ok") == "csi\\u009b2J \xC2\xA0ok");  // U+009B escaped, U+00A0 kept
}

TEST_CASE("printable: controls read '?', invalid bytes U+FFFD, the rest kept") {
  CHECK(printable("plain \xC3\xA9t\xC3\xA9") == "plain \xC3\xA9t\xC3\xA9");
  CHECK(printable("a\x1b[2J\nb\x7f"s) == "a?[2J?b?");
  CHECK(printable("\xC2\x9B" "c\0d"s) == "?c?d");
  CHECK(printable("x\xFFy\xC3") == "x\xEF\xBF\xBDy\xEF\xBF\xBD");
}
