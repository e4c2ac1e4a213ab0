#include "model/text.hpp"

#include <datahub/error.hpp>

#include <rapidjson/encodings.h>
#include <rapidjson/memorystream.h>

#include <algorithm>
#include <cstdio>

namespace datahub::model {
namespace {
struct DiscardSink {  // Validate() copies what it reads; we only want the verdict
  using Ch = char;
  void Put(char) {}
};
}  // namespace

bool is_utf8(std::string_view text) noexcept {
  // RapidJSON's validator rejects overlong forms and surrogates; it reads from a stream
  // that needs a terminator, so walk by byte count instead of relying on NUL.
  rapidjson::MemoryStream in(text.data(), text.size());
  DiscardSink sink;
  while (in.Tell() < text.size()) {
    if (!rapidjson::UTF8<>::Validate(in, sink)) return false;
  }
  return true;
}

bool is_clean_utf8(std::string_view text) noexcept {
  return text.find('\0') == std::string_view::npos && is_utf8(text);
}

std::string name_for_message(std::string_view name) {
  constexpr std::size_t kMaxBytes = 64;
  if (!is_utf8(name)) return "(not UTF-8)";
  std::size_t cut = std::min(name.size(), kMaxBytes);
  while (cut < name.size() && cut > 0 && (static_cast<unsigned char>(name[cut]) & 0xC0) == 0x80) --cut;
  std::string out;
  for (const char ch : name.substr(0, cut)) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7F) {  // as JSON escapes them: a NUL would cut a C caller's message short
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
      out += escaped;
    } else {
      out += ch;
    }
  }
  return cut < name.size() ? out + "..." : out;
}

std::size_t utf8_length(std::string_view text) noexcept {
  std::size_t count = 0;
  for (unsigned char c : text) {
    if ((c & 0xC0) != 0x80) ++count;  // count every byte that starts a code point
  }
  return count;
}

void check_text(std::string_view text, const std::string& field, std::size_t min_chars,
                std::size_t max_chars) {
  if (!is_clean_utf8(text)) throw InvalidArgument(field, "must be valid UTF-8 without NUL bytes");
  const std::size_t length = utf8_length(text);
  if (length < min_chars || length > max_chars) {
    throw InvalidArgument(field, min_chars == 0
                                     ? "must be at most " + std::to_string(max_chars) + " characters"
                                     : "must be " + std::to_string(min_chars) + " to " +
                                           std::to_string(max_chars) + " characters");
  }
}

}  // namespace datahub::model
