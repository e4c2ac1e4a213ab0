// Typed, strict access to the members of a parsed JSON object, for the C ABI's inputs.
// Every failure is an InvalidArgument naming the field ("patch.tags[2]: must be a string").
#pragma once

#include "secure_json.hpp"

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

namespace dhc_capi {

// How a message names an unexpected member: quoted, or by position where a name could be a
// secret (a key pasted where its id belongs, in the keys config), or quoted only when it
// looks like a field name (a typo of one), which no key does (the config's top level).
enum class MemberNames { quoted, by_position, quoted_if_field_name };

// `v` must be an object whose member names are all in `allowed` and unique.
void check_object(const Value& v, const std::string& field, std::initializer_list<const char*> allowed,
                  MemberNames names = MemberNames::quoted);
// The same without a list of allowed names: only unique names.
void check_unique_members(const Value& v, const std::string& field, MemberNames names = MemberNames::quoted);

// The member called `name`, or nullptr.
const Value* member(const Value& object, const char* name);
// The same, also nullptr when the member is null: for optional members, where null means
// "not given" (encoders such as Go's encoding/json write null for an empty slice).
const Value* given(const Value& object, const char* name);

// Conversions; `field` names the value in messages.
std::string as_string(const Value& v, const std::string& field);  // no NUL characters
std::int64_t as_int64(const Value& v, const std::string& field);
bool as_bool(const Value& v, const std::string& field);
std::vector<std::string> as_string_array(const Value& v, const std::string& field);

}  // namespace dhc_capi
