#include "crypto/base64.hpp"

#include <botan/base64.h>
#include <botan/mem_ops.h>

#include <array>
#include <cstdint>

namespace datahub::crypto {
namespace {

template <typename Buffer>
bool decode(std::string_view text, Buffer& out) {
  if (text.size() % 4 != 0) return false;
  out.resize(Botan::base64_decode_max_output(text.size()));
  std::size_t written = 0;
  try {
    written = Botan::base64_decode(out.data(), text.data(), text.size(), /*ignore_ws=*/false);
  } catch (const std::exception&) {
    Botan::secure_scrub_memory(out.data(), out.size());
    out.clear();
    return false;
  }
  out.resize(written);
  // Non-canonical padding bits decode too; re-encoding exposes them.
  std::string again(Botan::base64_encode_max_output(written), '\0');
  std::size_t consumed = 0;
  const std::size_t n = Botan::base64_encode(again.data(), out.data(), written, consumed, true);
  again.resize(n);
  if (again != text) {
    Botan::secure_scrub_memory(out.data(), out.size());
    out.clear();
    Botan::secure_scrub_memory(again.data(), again.size());
    return false;
  }
  Botan::secure_scrub_memory(again.data(), again.size());
  return true;
}

// Envelope fields are public, so they need no constant-time decoding; Botan's
// constant-time decoder plus the re-encoding check cost most of opening a record
// (docs/benchmarks.md). This table-driven decoder checks canonical form as it goes.
bool decode_public(std::string_view text, Bytes& out) {
  static const auto table = [] {
    std::array<std::int8_t, 256> t{};
    t.fill(-1);
    const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(alphabet[i])] = static_cast<std::int8_t>(i);
    return t;
  }();
  out.clear();
  if (text.size() % 4 != 0) return false;
  if (text.empty()) return true;
  const std::size_t pad = text.back() != '=' ? 0 : text[text.size() - 2] == '=' ? 2 : 1;
  out.resize(text.size() / 4 * 3);
  std::uint8_t* o = out.data();
  const auto* in = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t full = text.size() / 4 - (pad ? 1 : 0);  // groups without padding
  for (std::size_t g = 0; g < full; ++g, in += 4, o += 3) {
    const int a = table[in[0]], b = table[in[1]], c = table[in[2]], d = table[in[3]];
    if ((a | b | c | d) < 0) return false;
    const std::uint32_t n = static_cast<std::uint32_t>(a << 18 | b << 12 | c << 6 | d);
    o[0] = static_cast<std::uint8_t>(n >> 16);
    o[1] = static_cast<std::uint8_t>(n >> 8);
    o[2] = static_cast<std::uint8_t>(n);
  }
  if (pad) {  // the last group: 2 or 3 symbols, then '='; unused bits must be zero (canonical)
    const int a = table[in[0]], b = table[in[1]], c = pad == 1 ? table[in[2]] : 0;
    if ((a | b | c) < 0 || (pad == 1 && in[3] != '=')) return false;
    const std::uint32_t n = static_cast<std::uint32_t>(a << 18 | b << 12 | c << 6);
    o[0] = static_cast<std::uint8_t>(n >> 16);
    if (pad == 2) {
      out.resize(out.size() - 2);
      return (n & 0xFFFF) == 0;
    }
    o[1] = static_cast<std::uint8_t>(n >> 8);
    out.resize(out.size() - 1);
    return (n & 0xFF) == 0;
  }
  return true;
}

}  // namespace

std::string base64_encode(const std::uint8_t* data, std::size_t size) {
  // Public bytes only (see the header), so a plain table lookup, like decode_public:
  // Botan's constant-time encoder was a third of sealing a record.
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out((size + 2) / 3 * 4, '=');
  char* o = out.data();
  std::size_t i = 0;
  for (; i + 3 <= size; i += 3, o += 4) {
    const std::uint32_t n = std::uint32_t{data[i]} << 16 | std::uint32_t{data[i + 1]} << 8 | data[i + 2];
    o[0] = kAlphabet[n >> 18];
    o[1] = kAlphabet[(n >> 12) & 63];
    o[2] = kAlphabet[(n >> 6) & 63];
    o[3] = kAlphabet[n & 63];
  }
  if (i < size) {  // 1 or 2 bytes left: 2 or 3 symbols, then padding
    const std::uint32_t n = std::uint32_t{data[i]} << 16 | (i + 1 < size ? std::uint32_t{data[i + 1]} << 8 : 0);
    o[0] = kAlphabet[n >> 18];
    o[1] = kAlphabet[(n >> 12) & 63];
    if (i + 1 < size) o[2] = kAlphabet[(n >> 6) & 63];
  }
  return out;
}

bool base64_decode_strict(std::string_view text, Bytes& out) {
  if (!decode_public(text, out)) {
    out.clear();
    return false;
  }
  return true;
}
bool base64_decode_strict(std::string_view text, SecretBytes& out) { return decode(text, out); }

}  // namespace datahub::crypto
