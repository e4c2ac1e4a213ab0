// Strict JSON member access for the C ABI's inputs.
#include "json_read.hpp"

#include <datahub/error.hpp>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string_view>
#include <unordered_set>

namespace dhc_capi {
namespace {

// RapidJSON validates the raw bytes of the input, but decodes \uDC00 (a lone low surrogate)
// into bytes that are not UTF-8; so every extracted string is checked again (RFC 3629).
bool valid_utf8(const unsigned char* s, std::size_t n) {
  std::size_t i = 0;
  while (i < n) {
    const unsigned c = s[i];
    std::size_t len = 0;
    unsigned cp = 0;
    if (c < 0x80) { ++i; continue; }
    if (c >= 0xC2 && c <= 0xDF) { len = 2; cp = c & 0x1F; }
    else if (c >= 0xE0 && c <= 0xEF) { len = 3; cp = c & 0x0F; }
    else if (c >= 0xF0 && c <= 0xF4) { len = 4; cp = c & 0x07; }
    else return false;
    if (i + len > n) return false;
    for (std::size_t k = 1; k < len; ++k) {
      if ((s[i + k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10FFFF))) {
      return false;
    }
    i += len;
  }
  return true;
}

}  // namespace

std::string quoted_name(const char* name, std::size_t length) {
  constexpr std::size_t kMax = 64;
  if (!valid_utf8(reinterpret_cast<const unsigned char*>(name), length)) return "(not UTF-8)";
  std::size_t cut = std::min(length, kMax);
  // Back up over UTF-8 continuation bytes so the message stays valid UTF-8.
  while (cut < length && cut > 0 && (static_cast<unsigned char>(name[cut]) & 0xC0) == 0x80) --cut;
  // Control characters escaped as JSON writes them: a NUL would cut a C caller's message short.
  std::string out = "\"";
  for (std::size_t i = 0; i < cut; ++i) {
    const auto c = static_cast<unsigned char>(name[i]);
    if (c < 0x20 || c == 0x7F) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
      out += escaped;
    } else {
      out += name[i];
    }
  }
  return out + (cut < length ? "...\"" : "\"");
}

namespace {

// A member named in a message: quoted, or by its position where the name could be secret.
std::string member_name(const Value::ConstMemberIterator& it, std::size_t position, MemberNames names) {
  if (names == MemberNames::by_position) return "(member " + std::to_string(position + 1) + ")";
  return quoted_name(it->name.GetString(), it->name.GetStringLength());
}

}  // namespace

void check_unique_members(const Value& v, const std::string& field, MemberNames names) {
  if (!v.IsObject()) throw datahub::InvalidArgument(field, "must be a JSON object");
  std::unordered_set<std::string_view> seen;
  std::size_t position = 0;
  for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it, ++position) {
    std::string_view name(it->name.GetString(), it->name.GetStringLength());
    if (!seen.insert(name).second)
      throw datahub::InvalidArgument(field, "duplicate field " + member_name(it, position, names));
  }
}

void check_object(const Value& v, const std::string& field, std::initializer_list<const char*> allowed,
                  MemberNames names) {
  check_unique_members(v, field, names);
  std::size_t position = 0;
  for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it, ++position) {
    std::string_view name(it->name.GetString(), it->name.GetStringLength());
    bool known = false;
    for (const char* a : allowed) known = known || name == a;
    if (!known) throw datahub::InvalidArgument(field, "unknown field " + member_name(it, position, names));
  }
}

const Value* member(const Value& object, const char* name) {
  auto it = object.FindMember(name);
  return it == object.MemberEnd() ? nullptr : &it->value;
}

const Value* given(const Value& object, const char* name) {
  const Value* v = member(object, name);
  return v != nullptr && !v->IsNull() ? v : nullptr;
}

std::string as_string(const Value& v, const std::string& field) {
  if (!v.IsString()) throw datahub::InvalidArgument(field, "must be a string");
  const std::size_t n = v.GetStringLength();
  if (std::memchr(v.GetString(), '\0', n) != nullptr) {
    throw datahub::InvalidArgument(field, "must not contain NUL characters");
  }
  if (!valid_utf8(reinterpret_cast<const unsigned char*>(v.GetString()), n)) {
    throw datahub::InvalidArgument(field, "must be valid UTF-8 (no lone surrogates)");
  }
  return std::string(v.GetString(), n);
}

std::int64_t as_int64(const Value& v, const std::string& field) {
  if (!v.IsInt64()) throw datahub::InvalidArgument(field, "must be an integer");
  return v.GetInt64();
}

bool as_bool(const Value& v, const std::string& field) {
  if (!v.IsBool()) throw datahub::InvalidArgument(field, "must be true or false");
  return v.GetBool();
}

std::vector<std::string> as_string_array(const Value& v, const std::string& field) {
  if (!v.IsArray()) throw datahub::InvalidArgument(field, "must be an array of strings");
  std::vector<std::string> out;
  out.reserve(v.Size());
  for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
    out.push_back(as_string(v[i], field + "[" + std::to_string(i) + "]"));
  }
  return out;
}

}  // namespace dhc_capi
