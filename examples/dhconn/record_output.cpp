#include "record_output.hpp"

#include "cli_errors.hpp"

#include <algorithm>
#include <iomanip>

namespace dhconn {
namespace {

std::string value_text(const datahub::Details::Value& v) {
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  return std::to_string(std::get<std::int64_t>(v));
}

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : ",") + s;
  return out;
}

// user@host:port/database, from whatever fields are there.
std::string target_of(const datahub::Connection& c) {
  if (c.error) return std::string("! ") + datahub::to_string(c.error->code);
  auto field = [&](const char* name) {
    const auto* v = c.details.find(name);
    return v ? value_text(*v) : std::string();
  };
  std::string out = field("username");
  if (!out.empty()) out += "@";
  out += field("host");
  if (!field("port").empty()) out += ":" + field("port");
  if (!field("database").empty()) out += "/" + field("database");
  return out;
}

std::string clipped(const std::string& s, std::size_t width) {
  return s.size() <= width ? s : s.substr(0, width - 1) + "~";
}

}  // namespace

void print_record(std::ostream& out, const datahub::Connection& c) {
  auto line = [&](const std::string& name, const std::string& value) {
    out << std::left << std::setw(18) << name << dhconn::printable(value) << "\n";
  };
  line("id", std::to_string(c.id));
  line("name", c.name);
  line("description", c.description.value_or("-"));
  line("type", c.type);
  if (c.error) line("error", std::string(datahub::to_string(c.error->code)) + ": " + c.error->message);
  for (const auto& [name, value] : c.details) line(name, value_text(value));
  for (const auto& name : c.redacted) line(name, "(redacted; --reveal shows it)");
  line("tags", c.tags.empty() ? "-" : joined(c.tags));
  line("created", datahub::format_timestamp(c.created_at) + " by " + c.created_by);
  line("updated_at", datahub::format_timestamp(c.updated_at));
  line("updated_by", c.updated_by);
  if (!c.key_id.empty()) line("sealed", c.key_id + " (" + c.alg + ")" + (c.stale ? ", stale: rotate" : ""));
}

void print_table(std::ostream& out, const std::vector<datahub::Connection>& records) {
  struct Row { std::string id, name, type, target, tags, updated; };
  std::vector<Row> rows{{"ID", "NAME", "TYPE", "TARGET", "TAGS", "UPDATED_AT"}};
  for (const auto& c : records)
    rows.push_back({std::to_string(c.id), clipped(printable(c.name), 32), printable(c.type),
                    clipped(printable(target_of(c)), 48), clipped(printable(joined(c.tags)), 32),
                    datahub::format_timestamp(c.updated_at)});
  std::size_t w[5] = {0, 0, 0, 0, 0};
  for (const auto& r : rows) {
    w[0] = std::max(w[0], r.id.size());
    w[1] = std::max(w[1], r.name.size());
    w[2] = std::max(w[2], r.type.size());
    w[3] = std::max(w[3], r.target.size());
    w[4] = std::max(w[4], r.tags.size());
  }
  for (const auto& r : rows) {
    out << std::left << std::setw(static_cast<int>(w[0] + 2)) << r.id << std::setw(static_cast<int>(w[1] + 2))
        << r.name << std::setw(static_cast<int>(w[2] + 2)) << r.type << std::setw(static_cast<int>(w[3] + 2))
        << r.target << std::setw(static_cast<int>(w[4] + 2)) << r.tags << r.updated << "\n";
  }
}

std::string record_json(const datahub::Connection& c) {
  const datahub::SecretBytes json = datahub::to_json(c);
  return {json.begin(), json.end()};
}

std::string records_json(const std::vector<datahub::Connection>& records) {
  std::string out = "[";
  for (const auto& c : records) out += (out.size() > 1 ? "," : "") + record_json(c);
  return out + "]";
}

}  // namespace dhconn
