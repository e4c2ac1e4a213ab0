// ConnectionStore: create, read, list, update and delete.
#include "model/text.hpp"
#include "model/validation.hpp"
#include "store/sql_error.hpp"
#include "store/store_impl.hpp"

#include <datahub/connection_type.hpp>
#include <datahub/error.hpp>

#include <algorithm>
#include <cstdlib>

namespace datahub {
namespace {

constexpr int kMaxPageSize = 1000;
constexpr std::size_t kGinCandidates = 10001;  // ids a tag search collects before it sorts

}  // namespace

ConnectionStore::ConnectionStore(StoreOptions options) {
  if (!options.keys) throw InvalidArgument("keys", "a key provider is required");
  if (options.connect_timeout.count() < 1) throw InvalidArgument("connect_timeout", "must be at least 1 s");
  if (options.acquire_timeout.count() < 1) throw InvalidArgument("acquire_timeout", "must be at least 1 s");
  impl_ = std::make_unique<Impl>(std::move(options));
}

ConnectionStore::~ConnectionStore() = default;

const KeyProvider& ConnectionStore::keys() const noexcept { return *impl_->options.keys; }

Connection ConnectionStore::create(const NewConnection& input, std::string_view actor) {
  model::check_name(input.name);
  if (input.description) model::check_description(*input.description);
  model::check_actor(actor, "actor");
  const ConnectionType& type = connection_type(input.type);
  const Details details = type.validate(input.details);
  std::string tags = store::tags_to_json(model::normalize_tags(input.tags));
  try {
    auto lease = impl_->pool.lease();
    // The id is taken first: the ciphertext is bound to it.
    const auto next = store::exec(lease, "SELECT nextval(pg_get_serial_sequence('database_connections', 'id'))",
                                  {}, "create");
    const long long id = store::integer(next.get(), 0, 0);
    std::string sealed_kid;
    const std::string envelope = impl_->codec.seal(details, id, &sealed_kid);

    // The record is built before the INSERT, which commits: after it, nothing may fail.
    Connection c;
    c.id = id;
    c.name = input.name;
    c.description = input.description;
    c.type = input.type;
    c.details = details;
    c.redacted = store::redact(c.details, c.type);
    c.tags = store::tags_from_json(tags);
    c.created_by = c.updated_by = std::string(actor);
    c.key_id = sealed_kid;
    c.alg = impl_->options.cipher;

    store::Params p;
    std::string sql = "INSERT INTO database_connections "
                      "(id, name, description, type, connection_details, tags, created_by, updated_by) VALUES (";
    sql += "CAST(" + p.add(id) + " AS integer), ";
    sql += p.add(input.name) + ", ";
    sql += p.add_nullable(input.description) + ", ";
    sql += p.add(input.type) + ", ";
    sql += "CAST(" + p.add(envelope) + " AS jsonb), ";
    sql += "ARRAY(SELECT jsonb_array_elements_text(CAST(" + p.add(tags) + " AS jsonb))), ";
    const std::string actor_placeholder = p.add(c.created_by);
    sql += actor_placeholder + ", " + actor_placeholder + ") RETURNING " + store::micros_since_epoch("created_at") +
           ", " + store::micros_since_epoch("updated_at");
    const auto inserted = store::exec(lease, sql, p, "create");
    if (PQntuples(inserted.get()) != 1)  // a BEFORE trigger returned NULL, or sent the row elsewhere
      throw Database("create: the server did not store the row (a trigger on the table skipped it)", "");
    // strtoll, not the throwing store::integer: the row is written now.
    c.created_at = Timestamp(std::chrono::microseconds(std::strtoll(PQgetvalue(inserted.get(), 0, 0), nullptr, 10)));
    c.updated_at = Timestamp(std::chrono::microseconds(std::strtoll(PQgetvalue(inserted.get(), 0, 1), nullptr, 10)));
    return c;
  } catch (...) {
    store::rethrow_as_datahub_error("create");
  }
}

Connection ConnectionStore::get(std::int64_t id, Secrets secrets) {
  require_possible_id(id);
  std::vector<store::StoredRow> rows;
  try {
    auto lease = impl_->pool.lease();
    store::Params params;
    const std::string sql = std::string("SELECT ") + store::row_columns() +
                            " FROM database_connections WHERE id = CAST(" + params.add(id) + " AS bigint)";
    rows = store::fetch_rows(lease, sql, params, "get");
  } catch (...) {
    store::rethrow_as_datahub_error("get");
  }
  if (rows.empty()) throw no_connection(id);
  return impl_->codec.to_connection(rows.front(), secrets, /*keep_errors=*/false);
}

std::vector<Connection> ConnectionStore::find_by_name(std::string_view name, Secrets secrets) {
  model::check_name(name);
  std::vector<store::StoredRow> rows;
  try {
    auto lease = impl_->pool.lease();
    store::Params params;
    const std::string sql = std::string("SELECT ") + store::row_columns() +
                            " FROM database_connections WHERE name = " + params.add(std::string(name)) +
                            " ORDER BY id";
    rows = store::fetch_rows(lease, sql, params, "find_by_name");
  } catch (...) {
    store::rethrow_as_datahub_error("find_by_name");
  }
  std::vector<Connection> found;
  for (const auto& row : rows) found.push_back(impl_->codec.to_connection(row, secrets, true));
  return found;
}

Page ConnectionStore::list(const ListQuery& query, Secrets secrets) {
  if (query.limit < 1 || query.limit > kMaxPageSize) throw InvalidArgument("limit", "must be 1 to 1000");
  // Only fixed SQL fragments are chosen here; every value the caller gave is a parameter.
  store::Params params;
  std::string where = "id > CAST(" + params.add(query.after_id) + " AS bigint)";
  if (query.type) {
    connection_type(*query.type);  // an unknown type is a mistake, not an empty page
    where += " AND type = " + params.add(*query.type);
  }
  const bool by_tags = !query.tags_all.empty() || !query.tags_any.empty();
  if (!query.tags_all.empty()) {
    where += " AND tags @> CAST(" +
             params.add(store::text_array_literal(model::normalize_tags(query.tags_all, "tags_all"))) +
             " AS text[])";
  }
  if (!query.tags_any.empty()) {
    where += " AND tags && CAST(" +
             params.add(store::text_array_literal(model::normalize_tags(query.tags_any, "tags_any"))) +
             " AS text[])";
  }
  if (query.name_prefix) {
    model::check_text(*query.name_prefix, "name_prefix", 1, model::kNameMaxChars);
    where += " AND starts_with(name, CAST(" + params.add(*query.name_prefix) + " AS text))";
  }
  const std::string select = std::string("SELECT ") + store::row_columns() + " FROM database_connections WHERE ";
  const std::size_t wanted = static_cast<std::size_t>(query.limit) + 1;  // one more: is there a next page?

  std::vector<store::StoredRow> rows;
  std::optional<std::int64_t> next_after_id;
  try {
    auto lease = impl_->pool.lease();
    bool done = false;
    if (by_tags) {
      // Walking the primary key in order and filtering is the planner's usual choice with
      // ORDER BY id LIMIT n, and a disaster for a rare tag. So first ask the GIN index for
      // the matching ids, unordered; when there are few, the page is the first `limit` of
      // them, fetched by id. That is a second statement: a row deleted or changed in between
      // is left out (the filter is applied again), which may make the page short, and the
      // next page still starts after the last id chosen, so no row further on is skipped.
      const auto ids = store::exec_unprepared(lease, "SELECT id FROM database_connections WHERE " + where +
                                                         " LIMIT " + std::to_string(kGinCandidates), params, "list");
      const int n = PQntuples(ids.get());
      if (n < static_cast<int>(kGinCandidates)) {
        std::vector<long long> matches(static_cast<std::size_t>(n));
        for (int i = 0; i < n; ++i) matches[static_cast<std::size_t>(i)] = store::integer(ids.get(), i, 0);
        std::sort(matches.begin(), matches.end());
        if (matches.size() > static_cast<std::size_t>(query.limit)) {
          matches.resize(static_cast<std::size_t>(query.limit));
          next_after_id = matches.back();
        }
        std::string id_array = "{";
        for (std::size_t i = 0; i < matches.size(); ++i) id_array += (i ? "," : "") + std::to_string(matches[i]);
        // Prepared: the id list drives this plan (a primary-key scan, generic or not), so
        // planning it per call would only cost time.
        store::Params by_id = params;
        rows = store::fetch_rows(lease, select + where + " AND id = ANY(CAST(" + by_id.add(id_array + "}") +
                                            " AS integer[])) ORDER BY id", by_id, "list");
        done = true;
      }
    }
    if (!done) {
      const std::string sql =
          select + where + " ORDER BY id LIMIT CAST(" + params.add(static_cast<long long>(wanted)) + " AS integer)";
      rows = by_tags ? store::rows_from(store::exec_unprepared(lease, sql, params, "list").get())
                     : store::fetch_rows(lease, sql, params, "list");
      if (rows.size() > static_cast<std::size_t>(query.limit)) {
        rows.pop_back();
        next_after_id = rows.back().id;
      }
    }
  } catch (...) {
    store::rethrow_as_datahub_error("list");
  }
  Page page;
  page.items.reserve(rows.size());
  std::size_t unopened = 0, first_unopened = 0;
  for (const auto& row : rows) {
    page.items.push_back(impl_->codec.to_connection(row, secrets, true));
    if (page.items.back().error && unopened++ == 0) first_unopened = page.items.size() - 1;
  }
  // One warning per page, not per row: a missing key makes every row of a page fail alike.
  if (unopened > 0) {
    const Connection& first = page.items[first_unopened];
    impl_->log(LogLevel::warning, "list: " + std::to_string(unopened) + " of " + std::to_string(page.items.size()) +
                                      " connection(s) could not be opened, the first " + std::to_string(first.id) +
                                      ": " + first.error->message);
  }
  page.next_after_id = next_after_id;
  return page;
}

Connection ConnectionStore::update(std::int64_t id, const ConnectionPatch& patch, std::string_view actor,
                                   Timestamp expected_updated_at) {
  return impl_->update(id, patch, actor, &expected_updated_at);
}

Connection ConnectionStore::force_update(std::int64_t id, const ConnectionPatch& patch,
                                         std::string_view actor) {
  return impl_->update(id, patch, actor, nullptr);
}

void ConnectionStore::remove(std::int64_t id) {
  require_possible_id(id);
  bool deleted = false;
  try {
    auto lease = impl_->pool.lease();
    store::Params p;
    const std::string target = p.add(id);
    deleted = PQntuples(store::exec(lease,
                                    "DELETE FROM database_connections WHERE id = CAST(" + target +
                                        " AS bigint) RETURNING id",
                                    p, "delete")
                            .get()) == 1;
    if (!deleted) {
      // No row deleted: none with that id, or a BEFORE DELETE trigger kept it.
      const auto kept = store::exec(
          lease, "SELECT count(*) FROM database_connections WHERE id = CAST(" + target + " AS bigint)", p, "delete");
      if (store::integer(kept.get(), 0, 0) != 0)
        throw Database("delete: the server kept connection " + std::to_string(id) +
                           " (a trigger on the table skipped the delete)",
                       "");
    }
  } catch (...) {
    store::rethrow_as_datahub_error("delete");
  }
  if (!deleted) throw no_connection(id);
}

}  // namespace datahub
