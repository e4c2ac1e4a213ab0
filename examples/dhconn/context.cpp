#include "context.hpp"

#include "cli_errors.hpp"

#include <botan/system_rng.h>

#include <charconv>
#include <cstdint>
#include <cstdlib>

namespace dhconn {
namespace {

std::string from_env(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

std::shared_ptr<const datahub::KeyProvider> load_keys(const std::string& keys_file) {
  try {
    if (!keys_file.empty()) return datahub::StaticKeyring::from_file(keys_file);
    if (from_env("DATAHUB_CONNECTIONS_KEYS").empty())
      throw UsageError("no keys: set DATAHUB_CONNECTIONS_KEYS or pass --keys-file");
    return datahub::StaticKeyring::from_environment();
  } catch (const datahub::Error& e) {
    // A key configuration that is there but unusable is a key problem, not a usage one.
    throw ExitError(kKeyProblem, std::string("keys: ") + e.what());
  }
}

// Schema commands never open a record; a random key keeps them free of key setup.
std::shared_ptr<const datahub::KeyProvider> throwaway_keys() {
  std::vector<datahub::StaticKeyring::Key> keys;
  keys.emplace_back("dhconn-schema-only", Botan::system_rng().random_vec(32));
  return std::make_shared<datahub::StaticKeyring>("dhconn-schema-only", std::move(keys));
}

}  // namespace

std::unique_ptr<datahub::ConnectionStore> Context::open_store(bool needs_keys, std::size_t sessions) const {
  datahub::StoreOptions options;
  options.database = database.empty() ? from_env("DATAHUB_DATABASE") : database;
  if (options.database.empty()) throw UsageError("no database: set DATAHUB_DATABASE or pass --database");
  options.keys = needs_keys ? load_keys(keys_file) : throwaway_keys();
  options.pool_size = sessions;
  options.connect_timeout = std::chrono::seconds(db_timeout);
  return std::make_unique<datahub::ConnectionStore>(options);
}

std::string Context::resolved_actor() const {
  for (const std::string& candidate : {actor, from_env("DATAHUB_ACTOR"), from_env("USER")}) {
    if (!candidate.empty()) return candidate;
  }
  return "dhconn";
}

const CLI::Validator& decimal() {
  static const CLI::Validator validator(
      [](std::string& text) -> std::string {
        const std::size_t sign = !text.empty() && text[0] == '-' ? 1 : 0;
        const std::size_t digits = text.find_first_not_of('0', sign);
        // "-0", "000": zero; otherwise the digits from the first non-zero one.
        std::string plain = digits == std::string::npos ? "0" : text.substr(0, sign) + text.substr(digits);
        std::int64_t value = 0;
        const char* end = plain.data() + plain.size();
        const auto [at, error] = std::from_chars(plain.data(), end, value);
        if (text.size() == sign || error != std::errc() || at != end)
          return "must be a decimal integer (within 64 bits)";
        text = plain;
        return {};
      },
      "", "DECIMAL");
  return validator;
}

const CLI::Validator& non_empty() {
  static const CLI::Validator validator(
      [](std::string& text) -> std::string { return text.empty() ? "must not be empty" : ""; }, "", "NON_EMPTY");
  return validator;
}

void add_global_options(CLI::App& app, Context& context) {
  app.add_option("--database", context.database,
                 "libpq conninfo of the store's database (default: $DATAHUB_DATABASE; prefer the "
                 "variable: argv is visible to other users)")
      ->check(non_empty());
  app.add_option("--keys-file", context.keys_file,
                 "keyring file (JSON, owner-only permissions) instead of $DATAHUB_CONNECTIONS_KEYS")
      ->check(non_empty());
  app.add_option("--actor", context.actor, "name written to created_by/updated_by (default: $DATAHUB_ACTOR, $USER)")
      ->check(non_empty());
  app.add_option("--db-timeout", context.db_timeout, "seconds to wait for the store's database")
      ->transform(decimal())
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
}

void on_run(CLI::App* sub, Context& context, std::function<int()> action) {
  sub->callback([&context, action = std::move(action)] { context.action = action; });
}

}  // namespace dhconn
