// What went wrong in a JSON text, in RapidJSON's words but one.
#pragma once

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <string_view>

namespace datahub::model {

// RapidJSON calls a raw control character inside a string (a tab, a newline) an invalid
// escape, which sends the caller looking for a backslash that is not there.
inline const char* json_parse_error_text(rapidjson::ParseErrorCode code, std::size_t offset, std::string_view text) {
  if (code == rapidjson::kParseErrorStringEscapeInvalid && offset < text.size() &&
      static_cast<unsigned char>(text[offset]) < 0x20)
    return "Control character in string: escape it (\\n, \\t, \\u00XX).";
  return rapidjson::GetParseError_En(code);
}

}  // namespace datahub::model
