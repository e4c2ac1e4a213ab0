// JSON documents in, C++ records out; C++ records in, JSON text out.
#include "json_codec.hpp"

#include "json_read.hpp"
#include "secure_json.hpp"

#include <datahub/error.hpp>

#include <string>
#include <variant>

namespace dhc_capi {
namespace {

const Value& parse_object(Document& doc, const char* json, const char* what,
                          std::initializer_list<const char*> allowed) {
  parse_strict(doc, json, what);
  check_object(doc, what, allowed);
  return doc;
}

// Flat details: strings and integers. With `removed` (patches), null marks a removal.
// `field` names the member in messages ("connections[3].connection_details" in a batch).
void read_details(const Value& v, const std::string& field, datahub::Details& details,
                  std::vector<std::string>* removed) {
  check_unique_members(v, field);
  for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it) {
    const std::string name = as_string(it->name, field);
    const std::string sub = field + "." + name;
    if (it->value.IsString()) {
      details.set(name, as_string(it->value, sub));
    } else if (it->value.IsInt64()) {
      details.set(name, static_cast<std::int64_t>(it->value.GetInt64()));
    } else if (it->value.IsNull() && removed != nullptr) {
      removed->push_back(name);
    } else {
      // A number that is not an int64 (5432.0, 2^64) is named as such: "string or integer" misleads.
      throw datahub::InvalidArgument(sub, it->value.IsNumber() ? "must be an integer in the signed 64-bit range"
                                          : removed            ? "must be a string, an integer or null"
                                                               : "must be a string or an integer");
    }
  }
}

std::optional<std::string> nullable_string(const Value& v, const std::string& field) {
  if (v.IsNull()) return std::nullopt;
  return as_string(v, field);
}

}  // namespace

namespace {

// One connection object; `at` prefixes field names ("" or "connections[3].").
datahub::NewConnection new_connection_from(const Value& o, const std::string& at) {
  check_object(o, at.empty() ? "connection_json" : at.substr(0, at.size() - 1),
               {"name", "description", "type", "connection_details", "tags"});
  datahub::NewConnection c;
  const Value* v = member(o, "name");
  if (!v) throw datahub::InvalidArgument(at + "name", "is required");
  c.name = as_string(*v, at + "name");
  if ((v = member(o, "description"))) c.description = nullable_string(*v, at + "description");
  if (!(v = member(o, "type"))) throw datahub::InvalidArgument(at + "type", "is required");
  c.type = as_string(*v, at + "type");
  if (!(v = member(o, "connection_details"))) {
    throw datahub::InvalidArgument(at + "connection_details", "is required");
  }
  read_details(*v, at + "connection_details", c.details, nullptr);
  if ((v = given(o, "tags"))) c.tags = as_string_array(*v, at + "tags");
  return c;
}

}  // namespace

datahub::NewConnection parse_new_connection(const char* json) {
  Document doc;
  parse_strict(doc, json, "connection_json");
  return new_connection_from(doc, "");
}

std::vector<datahub::NewConnection> parse_new_connections(const char* json) {
  Document doc;
  parse_strict(doc, json, "connections_json");
  if (!doc.IsArray()) throw datahub::InvalidArgument("connections_json", "must be a JSON array");
  std::vector<datahub::NewConnection> out;
  out.reserve(doc.Size());
  for (rapidjson::SizeType i = 0; i < doc.Size(); ++i) {
    out.push_back(new_connection_from(doc[i], "connections[" + std::to_string(i) + "]."));
  }
  return out;
}

ParsedPatch parse_patch(const char* json) {
  Document doc;
  const Value& o = parse_object(doc, json, "patch_json",
                                {"name", "description", "tags", "connection_details",
                                 "expected_updated_at", "force"});
  ParsedPatch p;
  const Value* v = nullptr;
  if ((v = member(o, "name"))) p.patch.name = as_string(*v, "name");
  if ((v = member(o, "description"))) p.patch.description = nullable_string(*v, "description");
  if ((v = member(o, "tags"))) p.patch.tags = as_string_array(*v, "tags");
  if ((v = member(o, "connection_details"))) {
    read_details(*v, "connection_details", p.patch.details, &p.patch.details_remove);
  }
  if ((v = member(o, "force"))) p.force = as_bool(*v, "force");
  if ((v = member(o, "expected_updated_at"))) {
    if (p.force) {
      throw datahub::InvalidArgument("expected_updated_at",
                                     "give either expected_updated_at or \"force\": true, not both");
    }
    p.expected_updated_at =
        datahub::parse_timestamp(as_string(*v, "expected_updated_at"), "expected_updated_at");
  } else if (!p.force) {
    throw datahub::InvalidArgument("expected_updated_at",
                                   "is required (the updated_at you read), unless \"force\": true");
  }
  return p;
}

datahub::ListQuery parse_query(const char* json) {
  datahub::ListQuery q;
  if (json == nullptr || *json == '\0') return q;
  Document doc;
  const Value& o = parse_object(doc, json, "query_json",
                                {"type", "tags_all", "tags_any", "name_prefix", "after_id", "limit"});
  const Value* v = nullptr;
  if ((v = given(o, "type"))) q.type = as_string(*v, "type");
  if ((v = given(o, "tags_all"))) q.tags_all = as_string_array(*v, "tags_all");
  if ((v = given(o, "tags_any"))) q.tags_any = as_string_array(*v, "tags_any");
  if ((v = given(o, "name_prefix"))) q.name_prefix = as_string(*v, "name_prefix");
  if ((v = given(o, "after_id"))) {
    q.after_id = as_int64(*v, "after_id");
  }
  if ((v = given(o, "limit"))) {
    if (!v->IsInt()) throw datahub::InvalidArgument("limit", "must be an integer from 1 to 1000");
    q.limit = v->GetInt();
  }
  return q;
}

namespace {

// The record's JSON comes from the library (datahub::to_json), in wiped memory.
void write_connection(Writer& w, const datahub::Connection& c) {
  const datahub::SecretBytes json = datahub::to_json(c);
  w.RawValue(reinterpret_cast<const char*>(json.data()), json.size(), rapidjson::kObjectType);
}

void write_item_array(Writer& w, const std::vector<datahub::Connection>& items) {
  w.Key("items");
  w.StartArray();
  for (const auto& c : items) write_connection(w, c);
  w.EndArray();
}

}  // namespace

char* write_record(const datahub::Connection& c) {
  Buffer buffer;
  Writer w(buffer);
  write_connection(w, c);
  return to_c_string(buffer);
}

char* write_page(const datahub::Page& page) {
  Buffer buffer;
  Writer w(buffer);
  w.StartObject();
  write_item_array(w, page.items);
  w.Key("next_after_id");
  if (page.next_after_id) w.Int64(*page.next_after_id); else w.Null();
  w.EndObject();
  return to_c_string(buffer);
}

char* write_items(const std::vector<datahub::Connection>& items) {
  Buffer buffer;
  Writer w(buffer);
  w.StartObject();
  write_item_array(w, items);
  w.EndObject();
  return to_c_string(buffer);
}

}  // namespace dhc_capi
