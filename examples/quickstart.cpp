// The quickstart demo: migrate, create, list by tag, show redacted and revealed, update
// with the version check, delete. Reads DATAHUB_DATABASE and DATAHUB_CONNECTIONS_KEYS.
#include <datahub/connections.hpp>

#include <cstdlib>
#include <iostream>

namespace {

void show(const char* label, const datahub::Connection& c) {
  std::cout << label << ": #" << c.id << " " << c.name << " [";
  for (std::size_t i = 0; i < c.tags.size(); ++i) std::cout << (i ? ", " : "") << c.tags[i];
  std::cout << "]\n";
  for (const auto& [field, value] : c.details) {
    std::cout << "    " << field << " = ";
    if (const auto* s = std::get_if<std::string>(&value)) std::cout << *s;
    else std::cout << std::get<std::int64_t>(value);
    std::cout << "\n";
  }
  for (const auto& field : c.redacted) std::cout << "    " << field << " = (hidden)\n";
  std::cout << "    updated " << datahub::format_timestamp(c.updated_at) << " by " << c.updated_by << "\n";
}

datahub::NewConnection make(const char* name, const char* host, std::vector<std::string> tags) {
  datahub::NewConnection c;
  c.name = name;
  c.description = std::string("Demo connection to ") + host;
  c.details.set("host", host).set("database", "main_db").set("username", "app_user")
      .set("password", "demo-only-password").set("sslmode", "require");
  c.tags = std::move(tags);
  return c;
}

}  // namespace

int main() {
  const char* database = std::getenv("DATAHUB_DATABASE");
  if (!database) {
    std::cerr << "quickstart: set DATAHUB_DATABASE to a libpq connection string\n";
    return 2;
  }
  try {
    datahub::StoreOptions options;
    options.database = database;
    options.keys = datahub::StaticKeyring::from_environment();
    datahub::ConnectionStore store(options);

    store.migrate();
    auto status = store.schema_status();
    std::cout << "schema at version " << status.current_version << "\n";

    auto prod = store.create(make("Production DB", "db.example.com", {"production", "main"}), "user_01");
    auto stage = store.create(make("Staging DB", "staging.example.com", {"staging", "main"}), "user_01");
    auto reports = store.create(make("Reports DB", "reports.example.com", {"production", "reporting"}), "user_02");
    std::cout << "created #" << prod.id << ", #" << stage.id << ", #" << reports.id << "\n";

    datahub::ListQuery query;
    query.tags_all = {"production"};
    std::cout << "tagged production:";
    for (const auto& c : store.list(query).items) std::cout << " #" << c.id << " " << c.name << ";";
    std::cout << "\n";

    show("redacted", store.get(prod.id));
    show("revealed", store.get(prod.id, datahub::Secrets::reveal));

    datahub::ConnectionPatch patch;
    patch.details.set("host", "db2.example.com");
    auto updated = store.update(prod.id, patch, "user_02", prod.updated_at);
    show("updated", updated);
    try {
      store.update(prod.id, patch, "user_03", prod.updated_at);  // read before the update above
    } catch (const datahub::Conflict& e) {
      std::cout << "stale update refused: " << e.what() << "\n";
    }

    for (auto id : {prod.id, stage.id, reports.id}) store.remove(id);
    std::cout << "deleted the demo rows\n";
    return 0;
  } catch (const datahub::Error& e) {
    std::cerr << "quickstart: " << e.what() << "\n";
    return 1;
  }
}
