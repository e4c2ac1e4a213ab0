// What every command shares: the global options and the store they open.
#pragma once

#include <datahub/connections.hpp>

#include <CLI/CLI.hpp>

#include <functional>
#include <memory>
#include <string>

namespace dhconn {

struct Context {
  // Global options (flags win over the environment).
  std::string database;   // --database, else DATAHUB_DATABASE
  std::string keys_file;  // --keys-file, else DATAHUB_CONNECTIONS_KEYS
  std::string actor;      // --actor, else DATAHUB_ACTOR, else $USER, else "dhconn"
  int db_timeout = 5;     // --db-timeout: seconds to reach the store's database

  // The chosen subcommand's work, set while parsing and run after it succeeded.
  std::function<int()> action;

  // Opens the store with `sessions` pooled sessions (one per rotation worker; one
  // otherwise). Without `needs_keys` (schema commands) a throwaway key is used so that no
  // key configuration is required. Throws ExitError/UsageError/datahub::Error.
  std::unique_ptr<datahub::ConnectionStore> open_store(bool needs_keys = true, std::size_t sessions = 1) const;
  std::string resolved_actor() const;
};

// Adds --database, --keys-file, --actor and --db-timeout to the top-level app.
void add_global_options(CLI::App& app, Context& context);

// Makes `sub` run `action` when it is the command chosen.
void on_run(CLI::App* sub, Context& context, std::function<int()> action);

// For every integer option: plain decimal digits (an optional '-') within 64 bits. CLI11
// alone reads "010" as octal 8 and "0x10" as 16, and clamps an overflowing value to the
// largest: `delete 010` would delete connection 8. Leading zeros are dropped here instead.
const CLI::Validator& decimal();

// For an option whose empty value would be taken as "not given" (the environment's value,
// stdout, every type): `--database "$UNSET"` must not silently use $DATAHUB_DATABASE.
const CLI::Validator& non_empty();

}  // namespace dhconn
