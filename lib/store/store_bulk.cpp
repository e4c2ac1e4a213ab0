// ConnectionStore: create_many and for_each, the bulk paths.
#include "model/validation.hpp"
#include "store/pq.hpp"
#include "store/record_codec.hpp"
#include "store/sql_error.hpp"
#include "store/store_impl.hpp"

#include <datahub/connection_type.hpp>
#include <datahub/error.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>

namespace datahub {
namespace {

constexpr std::size_t kBatchRows = 1000;  // rows sealed, then sent, at a time

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
  store::append_copy_field(out, store::text_array_literal(p.tags));
  for (int i = 0; i < 2; ++i) {
    out += '\t';
    store::append_copy_field(out, actor);
  }
  out += '\n';
}

}  // namespace

std::vector<Connection> ConnectionStore::create_many(const std::vector<NewConnection>& inputs,
                                                     std::string_view actor) {
  model::check_actor(actor, "actor");
  std::vector<Prepared> prepared;
  prepared.reserve(inputs.size());
  for (std::size_t i = 0; i < inputs.size(); ++i) prepared.push_back(prepare(inputs[i], i));
  if (prepared.empty()) return {};

  std::vector<Connection> out;
  out.reserve(inputs.size());
  std::string by(actor);
  try {
    auto lease = impl_->pool.lease();
    soci::transaction tx(lease.session());
    // Every id first (each ciphertext is bound to its row), and the transaction's start time,
    // which is every row's created_at and updated_at (both default to now()). The sequence
    // is looked up once, in a scalar sub-select (an InitPlan): called per row,
    // pg_get_serial_sequence's catalog lookups cost the server more than the nextval.
    store::Params n;
    n.add(static_cast<long long>(prepared.size()));
    const auto ids = store::exec(lease,
                                 "SELECT nextval((SELECT CAST(pg_get_serial_sequence('database_connections', 'id') "
                                 "AS regclass))), CAST(extract(epoch FROM now()) * 1000000 AS bigint) "
                                 "FROM generate_series(1, CAST($1 AS integer))",
                                 n, "create_many");
    const Timestamp stamp{std::chrono::microseconds(store::integer(ids.get(), 0, 1))};
    auto id_of = [&](std::size_t i) { return store::integer(ids.get(), static_cast<int>(i), 0); };
    store::CopyIn copy(lease,
                       "COPY database_connections (id, name, description, type, connection_details, tags, "
                       "created_by, updated_by) FROM STDIN",
                       "create_many", [](long long line) { return "connections[" + std::to_string(line - 1) + "]"; });
    // One COPY, streamed a batch at a time. Sealing is client CPU and storing is server CPU,
    // so the next batch is sealed on a helper thread while this one is sent and stored (the
    // socket buffer alone holds too little to overlap them). On an exception, `stop` tells
    // the helper to give up, and `next` waits for it before the COPY is abandoned.
    std::atomic<bool> stop{false};
    std::vector<std::string> key_ids(prepared.size());  // what each row was sealed under
    auto seal_batch = [&](std::size_t start) {
      std::string rows;
      rows.reserve(1024 * kBatchRows);
      for (std::size_t i = start; i < std::min(prepared.size(), start + kBatchRows) && !stop; ++i)
        append_row(rows, id_of(i), prepared[i], impl_->codec.seal(prepared[i].details, id_of(i), &key_ids[i]), by);
      return rows;
    };
    const auto policy = prepared.size() > kBatchRows ? std::launch::async : std::launch::deferred;
    std::future<std::string> next = std::async(policy, seal_batch, 0);
    struct StopOnExit {
      std::atomic<bool>& stop;
      ~StopOnExit() { stop = true; }
    } stop_on_exit{stop};  // destroyed before `next`, whose destructor waits for the helper
    for (std::size_t start = 0; start < prepared.size(); start += kBatchRows) {
      const std::string rows = next.get();
      if (start + kBatchRows < prepared.size()) next = std::async(policy, seal_batch, start + kBatchRows);
      copy.send(rows);
    }
    // A BEFORE INSERT trigger of the table's that returns NULL drops a row without an
    // error: the rows returned would then name rows that are not there.
    const long long stored = copy.finish();
    if (stored != static_cast<long long>(prepared.size()))
      throw Database("create_many: the server stored " + std::to_string(stored) + " of " +
                         std::to_string(prepared.size()) + " rows (a trigger on the table skipped the others); "
                         "nothing was written",
                     "");

    for (std::size_t i = 0; i < prepared.size(); ++i) {
      const Prepared& p = prepared[i];
      Connection c;
      c.id = id_of(i);
      c.name = p.input->name;
      c.description = p.input->description;
      c.type = p.input->type;
      c.details = p.details;
      c.redacted = store::redact(c.details, c.type);
      c.tags = p.tags;
      c.created_at = c.updated_at = stamp;
      c.created_by = c.updated_by = by;
      c.key_id = std::move(key_ids[i]);
      c.alg = impl_->options.cipher;
      out.push_back(std::move(c));
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
