// dhconn migrate [up|down|status]: the schema, and the seed's rollback plan.
#include "cli_errors.hpp"
#include "commands.hpp"

#include <iostream>

namespace dhconn {
namespace {

struct MigrateFlags {
  std::string direction = "up";
  bool drop_table = false;
};

void print_status(const datahub::SchemaStatus& s) {
  std::cout << "schema version " << s.current_version << " of " << s.latest_version;
  if (s.current_version == s.latest_version) {
    std::cout << ": up to date\n";
  } else {
    std::cout << ": " << (s.latest_version - s.current_version) << " migration(s) pending (run: dhconn migrate)\n";
  }
}

int run(const Context& context, const MigrateFlags& flags) {
  if (flags.drop_table && flags.direction != "down") throw UsageError("--drop-table goes with `migrate down` only");
  auto store = context.open_store(/*needs_keys=*/false);
  if (flags.direction == "status") {
    print_status(store->schema_status());
  } else if (flags.direction == "up") {
    store->migrate();
    print_status(store->schema_status());
  } else if (flags.drop_table) {
    store->drop_table();
    std::cout << "dropped table database_connections and every row in it\n";
  } else {
    store->rollback_indexes();
    std::cout << "dropped the indexes; the table and its rows are kept (drop it with --drop-table)\n";
  }
  return kOk;
}

}  // namespace

void add_migrate_command(CLI::App& app, Context& context) {
  auto flags = std::make_shared<MigrateFlags>();
  auto* sub = app.add_subcommand("migrate", "Apply schema migrations (up), roll back the indexes (down), or show status");
  sub->add_option("direction", flags->direction, "up (default), down or status")
      ->check(CLI::IsMember({"up", "down", "status"}));
  sub->add_flag("--drop-table", flags->drop_table,
                "with down: also drop the table and EVERY ROW in it (separate and explicit on purpose)");
  on_run(sub, context, [&context, flags] { return run(context, *flags); });
}

}  // namespace dhconn
