// ConnectionStore: create_many and for_each, the bulk paths.
#include "model/validation.hpp"
#include "store/sql_error.hpp"
#include "store/store_impl.hpp"

#include <datahub/connection_type.hpp>
#include <datahub/error.hpp>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <unordered_map>

namespace datahub {
namespace {

constexpr std::size_t kBatchRows = 1000;

struct Prepared {
  const NewConnection* input;
  Details details;  // validated and normalized
  std::vector<std::string> tags;
};

Prepared prepare(const NewConnection& input, std::size_t index) {
  try {
    model::check_name(input.name);
    if (input.description) model::check_description(*input.description);
    const ConnectionType& type = connection_type(input.type);
    return {&input, type.validate(input.details), model::normalize_tags(input.tags)};
  } catch (const InvalidArgument& e) {
    const std::string reason = std::string(e.what()).substr(e.field().size() + 2);
    throw InvalidArgument("connections[" + std::to_string(index) + "]." + e.field(), reason);
  }
}

void write_string(rapidjson::Writer<rapidjson::StringBuffer>& w, const char* key, const std::string& value) {
  w.Key(key);
  w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
}

}  // namespace

std::vector<Connection> ConnectionStore::create_many(const std::vector<NewConnection>& inputs,
                                                     std::string_view actor) {
  model::check_actor(actor, "created_by");
  std::vector<Prepared> prepared;
  prepared.reserve(inputs.size());
  for (std::size_t i = 0; i < inputs.size(); ++i) prepared.push_back(prepare(inputs[i], i));

  std::vector<Connection> out;
  out.reserve(inputs.size());
  std::string by(actor);
  try {
    auto lease = impl_->pool.lease();
    soci::session& sql = lease.session();
    soci::transaction tx(sql);
    for (std::size_t start = 0; start < prepared.size(); start += kBatchRows) {
      const std::size_t count = std::min(kBatchRows, prepared.size() - start);
      // Ids first: each ciphertext is bound to its row.
      long long n = static_cast<long long>(count);
      std::vector<long long> ids;
      soci::rowset<long long> id_rows = (sql.prepare <<
          "SELECT nextval(pg_get_serial_sequence('database_connections', 'id')) "
          "FROM generate_series(1, CAST(:n AS integer))", soci::use(n, "n"));
      for (long long id : id_rows) ids.push_back(id);

      rapidjson::StringBuffer buffer;
      rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
      w.StartArray();
      for (std::size_t i = 0; i < count; ++i) {
        const Prepared& p = prepared[start + i];
        w.StartObject();
        w.Key("id");
        w.Int64(ids[i]);
        write_string(w, "name", p.input->name);
        w.Key("description");
        if (p.input->description) w.String(p.input->description->c_str(), static_cast<rapidjson::SizeType>(p.input->description->size()));
        else w.Null();
        write_string(w, "type", p.input->type);
        const std::string envelope = impl_->codec.seal(p.details, ids[i]);
        w.Key("details");
        w.RawValue(envelope.c_str(), envelope.size(), rapidjson::kObjectType);
        w.Key("tags");
        w.StartArray();
        for (const auto& tag : p.tags) w.String(tag.c_str(), static_cast<rapidjson::SizeType>(tag.size()));
        w.EndArray();
        w.EndObject();
      }
      w.EndArray();
      std::string rows(buffer.GetString(), buffer.GetSize());

      std::unordered_map<long long, std::pair<long long, long long>> stamps;
      soci::rowset<soci::row> inserted = (sql.prepare <<
          "INSERT INTO database_connections "
          "(id, name, description, type, connection_details, tags, created_by, updated_by) "
          "SELECT v.id, v.name, v.description, v.type, v.details, "
          "ARRAY(SELECT jsonb_array_elements_text(v.tags)), :created_by, :updated_by "
          "FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS "
          "v(id integer, name text, description text, type text, details jsonb, tags jsonb) "
          "RETURNING CAST(id AS bigint), CAST(extract(epoch FROM created_at) * 1000000 AS bigint), "
          "CAST(extract(epoch FROM updated_at) * 1000000 AS bigint)",
          soci::use(rows, "rows"), soci::use(by, "created_by"), soci::use(by, "updated_by"));
      for (const auto& r : inserted) stamps[r.get<long long>(0)] = {r.get<long long>(1), r.get<long long>(2)};

      for (std::size_t i = 0; i < count; ++i) {
        const Prepared& p = prepared[start + i];
        Connection c;
        c.id = ids[i];
        c.name = p.input->name;
        c.description = p.input->description;
        c.type = p.input->type;
        c.details = p.details;
        c.redacted = store::redact(c.details, c.type);
        c.tags = p.tags;
        c.created_at = Timestamp(std::chrono::microseconds(stamps[ids[i]].first));
        c.updated_at = Timestamp(std::chrono::microseconds(stamps[ids[i]].second));
        c.created_by = c.updated_by = by;
        c.key_id = impl_->options.keys->primary_key_id();
        c.alg = impl_->options.cipher;
        out.push_back(std::move(c));
      }
    }
    tx.commit();
  } catch (...) {
    store::rethrow_as_datahub_error("create_many");
  }
  return out;
}

void ConnectionStore::for_each(const ListQuery& query, const std::function<bool(const Connection&)>& visit,
                               Secrets secrets) {
  ListQuery page_query = query;
  for (;;) {
    Page page = list(page_query, secrets);
    for (const auto& c : page.items) {
      if (!visit(c)) return;
    }
    if (!page.next_after_id) return;
    page_query.after_id = *page.next_after_id;
  }
}

}  // namespace datahub
