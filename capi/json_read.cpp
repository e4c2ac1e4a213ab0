// Strict JSON member access for the C ABI's inputs.
#include "json_read.hpp"

#include "model/text.hpp"

#include <datahub/error.hpp>

#include <cstring>
#include <string_view>
#include <unordered_set>

namespace dhc_capi {
namespace {

// Up to 32 lowercase letters, digits and underscores, starting with a letter: shorter than
// any key's base64 (44 characters for 32 bytes) or hex, and without its capitals.
bool looks_like_field_name(std::string_view name) {
  if (name.empty() || name.size() > 32 || !(name[0] >= 'a' && name[0] <= 'z')) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

// A member named in a message: quoted, or by its position where the name could be secret.
std::string member_name(const Value::ConstMemberIterator& it, std::size_t position, MemberNames names) {
  const std::string_view name(it->name.GetString(), it->name.GetStringLength());
  if (names == MemberNames::by_position ||
      (names == MemberNames::quoted_if_field_name && !looks_like_field_name(name)))
    return "(member " + std::to_string(position + 1) + ")";
  return '"' + datahub::model::name_for_message(name) + '"';
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
    if (known) continue;
    std::string message = "unknown field " + member_name(it, position, names);
    if (names != MemberNames::quoted) {  // the name may not be shown: say what is allowed
      message += "; allowed:";
      for (const char* a : allowed) message += std::string(" \"") + a + '"';
    }
    throw datahub::InvalidArgument(field, message);
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
  // RapidJSON validated the raw input, but decodes \uDC00 (a lone low surrogate) into
  // bytes that are not UTF-8: every extracted string is checked again.
  if (!datahub::model::is_utf8({v.GetString(), n})) {
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
