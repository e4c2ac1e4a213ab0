// Wiping allocator and strict parsing for the C ABI's JSON.
#include "secure_json.hpp"

#include "model/json_parse_error.hpp"

#include <datahub/error.hpp>

#include <botan/mem_ops.h>

#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

namespace dhc_capi {
namespace {

// Keeps the payload aligned like malloc's.
constexpr std::size_t kHeader = alignof(std::max_align_t);

}  // namespace

void* WipingAllocator::Malloc(std::size_t size) {
  if (size == 0) return nullptr;  // as rapidjson::CrtAllocator
  auto* block = static_cast<unsigned char*>(std::malloc(size + kHeader));
  if (block == nullptr) throw std::bad_alloc();
  std::memcpy(block, &size, sizeof size);
  return block + kHeader;
}

void* WipingAllocator::Realloc(void* original, std::size_t original_size, std::size_t new_size) {
  if (new_size == 0) {
    Free(original);
    return nullptr;
  }
  // Never realloc() in place: the old block would be released unwiped.
  void* fresh = Malloc(new_size);
  if (original != nullptr) {
    std::memcpy(fresh, original, original_size < new_size ? original_size : new_size);
    Free(original);
  }
  return fresh;
}

void WipingAllocator::Free(void* ptr) {
  if (ptr == nullptr) return;
  auto* block = static_cast<unsigned char*>(ptr) - kHeader;
  std::size_t size = 0;
  std::memcpy(&size, block, sizeof size);
  Botan::secure_scrub_memory(block, size + kHeader);
  std::free(block);
}

void parse_strict(Document& doc, const char* json, const char* what) {
  constexpr unsigned kFlags = rapidjson::kParseValidateEncodingFlag | rapidjson::kParseIterativeFlag;
  // With an explicit length RapidJSON reads through a bounded MemoryStream; the
  // NUL-terminated overload over-reads past the terminator when a multi-byte UTF-8
  // sequence is cut short at the end of the input (found by the fuzz corpus under ASan).
  doc.Parse<kFlags>(json, std::strlen(json));
  if (doc.HasParseError()) {
    throw datahub::InvalidArgument(
        what, std::string("invalid JSON at offset ") + std::to_string(doc.GetErrorOffset()) +
                  ": " + datahub::model::json_parse_error_text(doc.GetParseError(), doc.GetErrorOffset(), json));
  }
}

char* to_c_string(std::string_view text) {
  const std::size_t n = text.size();
  auto* s = static_cast<char*>(std::malloc(n + 1));
  if (s == nullptr) throw std::bad_alloc();
  std::memcpy(s, text.data(), n);
  s[n] = '\0';
  return s;
}

}  // namespace dhc_capi
