// Shared helpers for the libFuzzer targets in tests/fuzz/.
//
// Each target defines LLVMFuzzerTestOneInput. Built with clang and -fsanitize=fuzzer it is a
// fuzzer; built with any compiler and replay_main.cpp it replays a corpus (ctest does that).
//
// Expected failures are datahub::Error with the codes a target allows; anything else (another
// exception type, an unexpected code, a broken round trip) aborts via FUZZ_CHECK, which
// libFuzzer and the replay runner both report as a crash.
#pragma once

#include <datahub/error.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#define FUZZ_CHECK(cond, what)                                                          \
  do {                                                                                  \
    if (!(cond)) {                                                                      \
      std::fprintf(stderr, "FUZZ_CHECK failed at %s:%d: %s (%s)\n", __FILE__, __LINE__, \
                   #cond, what);                                                        \
      std::abort();                                                                     \
    }                                                                                   \
  } while (0)

namespace fuzz {

// Aborts unless `e` has one of the allowed codes. Internal errors are always bugs.
inline void expect_code(const datahub::Error& e, std::initializer_list<datahub::ErrorCode> allowed) {
  for (auto c : allowed) {
    if (e.code() == c) return;
  }
  std::fprintf(stderr, "unexpected error code %s: %s\n", datahub::to_string(e.code()), e.what());
  std::abort();
}

// RFC 3629 UTF-8 (no overlongs, no surrogates, <= U+10FFFF); NUL is allowed. Written here
// independently of the library's own checker so that the two can disagree.
inline bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  while (i < s.size()) {
    const unsigned c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t n;
    unsigned cp;
    if ((c & 0xE0) == 0xC0) { n = 2; cp = c & 0x1F; }
    else if ((c & 0xF0) == 0xE0) { n = 3; cp = c & 0x0F; }
    else if ((c & 0xF8) == 0xF0) { n = 4; cp = c & 0x07; }
    else return false;
    if (i + n > s.size()) return false;
    for (std::size_t k = 1; k < n; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    static const unsigned kMin[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n;
  }
  return true;
}

// The input as a NUL-terminated string, for entry points that take `const char*`: a heap
// block of exactly size + 1 bytes, so that AddressSanitizer sees any read past the NUL
// (a std::string's spare capacity or inline buffer would hide it).
class CString {
 public:
  CString(const std::uint8_t* data, std::size_t size) : p_(new char[size + 1]) {
    if (size) std::memcpy(p_.get(), data, size);
    p_[size] = '\0';
  }
  const char* c_str() const noexcept { return p_.get(); }

 private:
  std::unique_ptr<char[]> p_;
};
inline CString as_c_string(const std::uint8_t* data, std::size_t size) { return CString(data, size); }

// Splits the input into pieces at every 0xFF byte (a byte that never occurs in UTF-8).
inline std::vector<std::string> split_ff(const std::uint8_t* data, std::size_t size) {
  std::vector<std::string> out(1);
  for (std::size_t i = 0; i < size; ++i) {
    if (data[i] == 0xFF) out.emplace_back();
    else out.back().push_back(static_cast<char>(data[i]));
  }
  return out;
}

}  // namespace fuzz
