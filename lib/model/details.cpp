#include "model/details_json.hpp"
#include "model/json_parse_error.hpp"
#include "model/record_json.hpp"
#include "model/stack_json_document.hpp"
#include "model/text.hpp"

#include <datahub/error.hpp>

#include <botan/mem_ops.h>
#include <rapidjson/writer.h>

#include <algorithm>

namespace datahub {

Details& Details::operator=(const Details& other) {
  if (this != &other) {
    wipe();
    fields_ = other.fields_;
  }
  return *this;
}

Details& Details::operator=(Details&& other) noexcept {
  if (this != &other) {
    wipe();
    fields_ = std::move(other.fields_);
  }
  return *this;
}

Details::~Details() { wipe(); }

namespace {
// The whole buffer, not just size(): a string that once held a longer value, or was moved
// from (a short string keeps its characters inside the object), has more behind it.
void scrub(Details::Value& value) noexcept {
  if (auto* s = std::get_if<std::string>(&value)) Botan::secure_scrub_memory(s->data(), s->capacity());
}
}  // namespace

void Details::wipe() noexcept {
  for (auto& field : fields_) scrub(field.second);
  fields_.clear();
}

// Moves the fields, but `skip`, into a new buffer of `capacity` and wipes the old one's
// strings before it is freed. The vector's own growth and erase() move strings too, and a
// moved short string leaves its characters behind (in the freed buffer, or in a slot past
// the end or of another type), where no wipe would reach them.
void Details::move_fields(std::size_t capacity, const Field* skip) {
  std::vector<Field> moved;
  moved.reserve(capacity);
  for (auto& field : fields_) {
    if (&field != skip) moved.push_back(std::move(field));
  }
  wipe();  // the moved-from strings, and `skip`
  fields_.swap(moved);
}

void Details::make_room() {
  if (fields_.size() == fields_.capacity()) move_fields(fields_.empty() ? 8 : 2 * fields_.capacity(), nullptr);
}

Details Details::from_json(std::string_view json) {
  rapidjson::Document doc;
  if (json.find('\0') != std::string_view::npos)
    throw InvalidArgument("connection_details", "malformed JSON: contains a NUL byte");
  // RapidJSON rejects anything after the root value but whitespace by itself.
  doc.Parse<rapidjson::kParseValidateEncodingFlag | rapidjson::kParseIterativeFlag>(json.data(), json.size());
  if (doc.HasParseError()) {
    throw InvalidArgument("connection_details",
                          std::string("malformed JSON: ") +
                              model::json_parse_error_text(doc.GetParseError(), doc.GetErrorOffset(), json));
  }
  return model::details_from_json_value(doc, "connection_details");
}

Details& Details::set(std::string_view name, std::string value) {
  for (auto& field : fields_) {
    if (field.first == name) {
      scrub(field.second);
      field.second = std::move(value);
      return *this;
    }
  }
  make_room();
  fields_.emplace_back(std::string(name), std::move(value));
  return *this;
}

void Details::throw_out_of_range(std::string_view name) {
  throw InvalidArgument("connection_details." + std::string(name), "is out of int64's range");
}

Details& Details::set(std::string_view name, std::int64_t value) {
  for (auto& field : fields_) {
    if (field.first == name) {
      scrub(field.second);
      field.second = value;
      return *this;
    }
  }
  make_room();
  fields_.emplace_back(std::string(name), value);
  return *this;
}

bool Details::erase(std::string_view name) {
  auto it = std::find_if(fields_.begin(), fields_.end(),
                         [&](const Field& f) { return f.first == name; });
  if (it == fields_.end()) return false;
  move_fields(fields_.capacity(), &*it);
  return true;
}

const Details::Value* Details::find(std::string_view name) const noexcept {
  for (const auto& field : fields_) {
    if (field.first == name) return &field.second;
  }
  return nullptr;
}

const std::string* Details::find_string(std::string_view name) const noexcept {
  const Value* v = find(name);
  return v ? std::get_if<std::string>(v) : nullptr;
}

const std::int64_t* Details::find_integer(std::string_view name) const noexcept {
  const Value* v = find(name);
  return v ? std::get_if<std::int64_t>(v) : nullptr;
}

namespace model {

Details details_from_json_value(const rapidjson::Value& object, const std::string& field) {
  if (!object.IsObject()) throw InvalidArgument(field, "must be a JSON object");
  Details details;
  // Every record read comes through here: error paths are spelled out only on an error.
  const auto path = [&field](std::string_view key) { return field + "." + name_for_message(key); };
  for (const auto& member : object.GetObject()) {
    const std::string_view key(member.name.GetString(), member.name.GetStringLength());
    const std::size_t key_chars = is_clean_utf8(key) ? utf8_length(key) : 0;
    if (key_chars < 1 || key_chars > 64) check_text(key, field + " key", 1, 64);  // throws why
    if (details.find(key)) throw InvalidArgument(path(key), "appears twice");
    const auto& value = member.value;
    if (value.IsString()) {
      const std::string_view text(value.GetString(), value.GetStringLength());
      if (!is_clean_utf8(text)) throw InvalidArgument(path(key), "must be valid UTF-8 without NUL bytes");
      details.set(key, std::string(text));
    } else if (value.IsInt64()) {
      details.set(key, value.GetInt64());
    } else {
      throw InvalidArgument(path(key), value.IsNumber() ? "must be an integer"
                                                        : "must be a string or an integer");
    }
  }
  return details;
}

SecretBytes details_to_secret_json(const Details& details) {
  SecretBytes out;
  out.reserve(256);
  SecretSink sink{out};
  rapidjson::Writer<SecretSink> writer(sink);
  write_details(writer, details);
  return out;
}

Details details_from_secret_json(SecretBytes& json) {
  json.push_back(0);  // in-situ parsing needs a terminator
  // In situ, values point into `json` (a wiped buffer); the DOM and parse stack do not
  // allocate.
  StackJsonDocument parsed;
  auto& doc = parsed.doc();
  doc.ParseInsitu<rapidjson::kParseValidateEncodingFlag | rapidjson::kParseIterativeFlag>(reinterpret_cast<char*>(json.data()));
  if (doc.HasParseError()) throw Integrity("decrypted details are not valid JSON");
  try {
    return details_from_json_value(doc, "connection_details");
  } catch (const InvalidArgument&) {
    throw Integrity("decrypted details are malformed");
  }
}

}  // namespace model
}  // namespace datahub
