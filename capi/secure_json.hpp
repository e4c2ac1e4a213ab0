// RapidJSON types whose every buffer is wiped before it is freed: parsed documents and
// written text may hold passwords, and RapidJSON's own allocators just free.
#pragma once

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstddef>
#include <string_view>

namespace dhc_capi {

// A RapidJSON Allocator (see rapidjson/allocators.h) over malloc that wipes on free. Free()
// is static and gets no size, so each block carries its size in a header.
class WipingAllocator {
 public:
  static const bool kNeedFree = true;
  void* Malloc(std::size_t size);
  void* Realloc(void* original, std::size_t original_size, std::size_t new_size);
  static void Free(void* ptr);
};

using Document =
    rapidjson::GenericDocument<rapidjson::UTF8<>, rapidjson::MemoryPoolAllocator<WipingAllocator>,
                               WipingAllocator>;
using Value = Document::ValueType;
using Buffer = rapidjson::GenericStringBuffer<rapidjson::UTF8<>, WipingAllocator>;
using Writer = rapidjson::Writer<Buffer, rapidjson::UTF8<>, rapidjson::UTF8<>, WipingAllocator>;

// Parses strictly: valid UTF-8, one value and nothing after it, no recursion (deep nesting
// cannot overflow the stack). Throws InvalidArgument(what, ...) without quoting the input.
void parse_strict(Document& doc, const char* json, const char* what);

// A malloc'ed, NUL-terminated copy of the text, for dhc_string_free(). Throws bad_alloc.
char* to_c_string(std::string_view text);
inline char* to_c_string(const Buffer& buffer) { return to_c_string({buffer.GetString(), buffer.GetSize()}); }

}  // namespace dhc_capi
