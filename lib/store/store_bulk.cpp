// ConnectionStore: create_many and for_each, the bulk paths.
#include "model/validation.hpp"
#include "store/pq.hpp"
#include "store/record_codec.hpp"
#include "store/sql_error.hpp"
#include "store/store_impl.hpp"

#include <datahub/connection_type.hpp>
#include <datahub/error.hpp>

#include <chrono>

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

// One row of the COPY: id, name, description, type, connection_details, tags, created_by,
// updated_by.
void append_row(std::string& out, long long id, const Prepared& p, const std::string& envelope,
                const std::string& actor) {
  out += std::to_string(id);
  out += '\t';
  store::append_copy_field(out, p.input->name);
  out += '\t';
  if (p.input->description) store::append_copy_field(out, *p.input->description); else out += "\\N";
  out += '\t';
  store::append_copy_field(out, p.input->type);
  out += '\t';
  store::append_copy_field(out, envelope);
  out += '\t';
  store::append_copy_field(out, store::tags_to_array_literal(p.tags));
  for (int i = 0; i < 2; ++i) {
    out += '\t';
    store::append_copy_field(out, actor);
  }
  out += '\n';
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
    soci::transaction tx(lease.session());
    // Every row gets the transaction's start time: created_at and updated_at default to now().
    const auto now = store::exec(lease, "SELECT CAST(extract(epoch FROM now()) * 1000000 AS bigint)", {},
                                 "create_many");
    const Timestamp stamp{std::chrono::microseconds(store::integer(now.get(), 0, 0))};
    std::string rows;
    for (std::size_t start = 0; start < prepared.size(); start += kBatchRows) {
      const std::size_t count = std::min(kBatchRows, prepared.size() - start);
      // Ids first: each ciphertext is bound to its row.
      store::Params n;
      n.add(static_cast<long long>(count));
      const auto ids = store::exec(lease,
                                   "SELECT nextval(pg_get_serial_sequence('database_connections', 'id')) "
                                   "FROM generate_series(1, CAST($1 AS integer))",
                                   n, "create_many");
      rows.clear();
      for (std::size_t i = 0; i < count; ++i) {
        const long long id = store::integer(ids.get(), static_cast<int>(i), 0);
        append_row(rows, id, prepared[start + i], impl_->codec.seal(prepared[start + i].details, id), by);
      }
      store::copy_in(lease,
                     "COPY database_connections (id, name, description, type, connection_details, tags, "
                     "created_by, updated_by) FROM STDIN",
                     rows, "create_many");

      for (std::size_t i = 0; i < count; ++i) {
        const Prepared& p = prepared[start + i];
        Connection c;
        c.id = store::integer(ids.get(), static_cast<int>(i), 0);
        c.name = p.input->name;
        c.description = p.input->description;
        c.type = p.input->type;
        c.details = p.details;
        c.redacted = store::redact(c.details, c.type);
        c.tags = p.tags;
        c.created_at = c.updated_at = stamp;
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
