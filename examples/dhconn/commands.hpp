// Each command adds its subcommand (flags, help, action) to the app.
#pragma once

#include "context.hpp"

namespace dhconn {

void add_migrate_command(CLI::App& app, Context& context);
void add_add_command(CLI::App& app, Context& context);
void add_get_command(CLI::App& app, Context& context);
void add_delete_command(CLI::App& app, Context& context);
void add_list_command(CLI::App& app, Context& context);
void add_update_command(CLI::App& app, Context& context);
void add_test_command(CLI::App& app, Context& context);
void add_keys_command(CLI::App& app, Context& context);
void add_export_command(CLI::App& app, Context& context);
void add_import_command(CLI::App& app, Context& context);

}  // namespace dhconn
