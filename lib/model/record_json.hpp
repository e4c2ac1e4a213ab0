// The one writer of a record's columns as JSON, shared by to_json(Connection) (the C ABI's
// and the CLI's shape) and the export file's lines, so the two cannot drift apart.
#pragma once

#include <datahub/connection.hpp>

#include <rapidjson/rapidjson.h>

#include <string>
#include <variant>
#include <vector>

namespace datahub::model {

template <class Writer>
void write_text(Writer& w, const std::string& s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

template <class Writer>
void write_texts(Writer& w, const std::vector<std::string>& items) {
  w.StartArray();
  for (const auto& s : items) write_text(w, s);
  w.EndArray();
}

template <class Writer>
void write_details(Writer& w, const Details& details) {
  w.StartObject();
  for (const auto& [name, value] : details) {
    write_text(w, name);
    if (const auto* s = std::get_if<std::string>(&value)) write_text(w, *s);
    else w.Int64(std::get<std::int64_t>(value));
  }
  w.EndObject();
}

// The seed's ten columns, as members of the object the caller has started;
// connection_details is null for a row whose details could not be opened.
template <class Writer>
void write_columns(Writer& w, const Connection& c) {
  w.Key("id");
  w.Int64(c.id);
  w.Key("name");
  write_text(w, c.name);
  w.Key("description");
  if (c.description) write_text(w, *c.description); else w.Null();
  w.Key("type");
  write_text(w, c.type);
  w.Key("connection_details");
  if (c.error) w.Null(); else write_details(w, c.details);
  w.Key("tags");
  write_texts(w, c.tags);
  w.Key("created_at");
  write_text(w, format_timestamp(c.created_at));
  w.Key("created_by");
  write_text(w, c.created_by);
  w.Key("updated_at");
  write_text(w, format_timestamp(c.updated_at));
  w.Key("updated_by");
  write_text(w, c.updated_by);
}

}  // namespace datahub::model
