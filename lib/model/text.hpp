// Text checks shared by every layer: UTF-8 validity, NUL bytes, length in characters.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace datahub::model {

// Valid UTF-8: no overlongs, no surrogates (RapidJSON's validator).
bool is_utf8(std::string_view text) noexcept;

// Valid UTF-8 and no NUL byte.
bool is_clean_utf8(std::string_view text) noexcept;

// A name given by a caller (a member, a details field), fit to appear in a message: at most
// 64 bytes, cut on a code point boundary ("..." then follows), C0 and C1 control
// characters (NUL among them) and DEL escaped as \u00XX; "(not UTF-8)" when it is not UTF-8. Unquoted.
std::string name_for_message(std::string_view name);

// `text` as valid UTF-8 without control characters: '?' for a C0 or C1 control or DEL,
// U+FFFD for an invalid byte. For text a foreign server chose (a connection test's message
// and server version), which reaches terminals (escape sequences) and JSON.
std::string printable(std::string_view text);

// Number of code points; `text` must be valid UTF-8.
std::size_t utf8_length(std::string_view text) noexcept;

// Throws InvalidArgument(field, ...) unless `text` is clean UTF-8 of min..max characters.
void check_text(std::string_view text, const std::string& field, std::size_t min_chars,
                std::size_t max_chars);

}  // namespace datahub::model
