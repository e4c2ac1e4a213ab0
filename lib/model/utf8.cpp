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

namespace {

// The C1 control (U+0080-U+009F: 0xC2 0x80-0x9F) starting at `at`, or -1. A terminal takes
// U+009B as CSI, as it does ESC [.
int c1_control_at(std::string_view text, std::size_t at) {
  if (at + 1 >= text.size() || static_cast<unsigned char>(text[at]) != 0xC2) return -1;
  const auto next = static_cast<unsigned char>(text[at + 1]);
  return next < 0xA0 ? next : -1;
}

bool is_c0_control(unsigned char c) { return c < 0x20 || c == 0x7F; }

}  // namespace

std::string name_for_message(std::string_view name) {
  constexpr std::size_t kMaxBytes = 64;
  if (!is_utf8(name)) return "(not UTF-8)";
  std::size_t cut = std::min(name.size(), kMaxBytes);
  while (cut < name.size() && cut > 0 && (static_cast<unsigned char>(name[cut]) & 0xC0) == 0x80) --cut;
  const std::string_view kept = name.substr(0, cut);
  std::string out;
  for (std::size_t at = 0; at < kept.size(); ++at) {
    const auto c = static_cast<unsigned char>(kept[at]);
    const int c1 = c1_control_at(kept, at);
    if (is_c0_control(c) || c1 >= 0) {  // as JSON escapes them: a NUL would cut a C caller's message short
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", c1 >= 0 ? c1 : c);
      out += escaped;
      if (c1 >= 0) ++at;
    } else {
      out += kept[at];
    }
  }
  return cut < name.size() ? out + "..." : out;
}

std::string printable(std::string_view text) {
  std::string out;
  std::size_t at = 0;
  while (at < text.size()) {
    rapidjson::MemoryStream in(text.data() + at, text.size() - at);
    DiscardSink sink;
    const bool valid = rapidjson::UTF8<>::Validate(in, sink);
    const std::size_t length = valid ? in.Tell() : 1;
    if (!valid) {
      out += "\xEF\xBF\xBD";  // U+FFFD
    } else if (is_c0_control(static_cast<unsigned char>(text[at])) || c1_control_at(text, at) >= 0) {
      out += '?';
    } else {
      out.append(text.substr(at, length));
    }
    at += length;
  }
  return out;
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
