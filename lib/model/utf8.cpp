#include "model/text.hpp"

#include <datahub/error.hpp>

#include <rapidjson/encodings.h>
#include <rapidjson/memorystream.h>

namespace datahub::model {
namespace {
struct DiscardSink {  // Validate() copies what it reads; we only want the verdict
  using Ch = char;
  void Put(char) {}
};
}  // namespace

bool is_clean_utf8(std::string_view text) noexcept {
  // RapidJSON's validator rejects overlong forms and surrogates; it reads from a stream
  // that needs a terminator, so walk by byte count instead of relying on NUL.
  rapidjson::MemoryStream in(text.data(), text.size());
  DiscardSink sink;
  while (in.Tell() < text.size()) {
    if (in.Peek() == '\0') return false;
    if (!rapidjson::UTF8<>::Validate(in, sink)) return false;
  }
  return true;
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
