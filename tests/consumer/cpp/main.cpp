// Uses the installed SDK as DataHubAPI would: open, migrate, create, read back, delete.
#include <datahub/connections.hpp>

#include <cstdlib>
#include <iostream>

int main() {
  const char* database = std::getenv("DATAHUB_TEST_DATABASE");
  if (!database) return 2;
  try {
    datahub::StoreOptions options;
    options.database = database;
    options.keys = datahub::StaticKeyring::from_environment();
    datahub::ConnectionStore store(options);
    store.migrate();
    datahub::NewConnection c;
    c.name = "consumer (C++)";
    c.details.set("host", "h").set("database", "d").set("username", "u").set("password", "p");
    const auto created = store.create(c, "consumer");
    const auto read = store.get(created.id, datahub::Secrets::reveal);
    store.remove(created.id);
    if (*read.details.find_string("password") != "p") return 1;
    std::cout << "consumer_cpp ok: version " << DATAHUB_CONNECTIONS_VERSION_STRING << "\n";
    return 0;
  } catch (const datahub::Error& e) {
    std::cerr << "consumer_cpp: " << e.what() << "\n";
    return 1;
  }
}
