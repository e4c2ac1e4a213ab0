// dhconn test: open one real session to a stored connection's target.
#include "cli_errors.hpp"
#include "commands.hpp"

#include <datahub/target.hpp>

#include <cmath>
#include <cstdio>
#include <iostream>

namespace dhconn {
namespace {

struct TestFlags {
  std::int64_t id = 0;
  double timeout_seconds = 10;
  bool json = false;
};

std::string milliseconds(std::chrono::microseconds latency) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f ms", static_cast<double>(latency.count()) / 1000.0);
  return text;
}

int run(const Context& context, const TestFlags& flags) {
  // CLI::Range lets NaN through (no comparison holds), and casting NaN to an integer is
  // undefined behaviour.
  if (!std::isfinite(flags.timeout_seconds)) throw UsageError("--timeout: must be a number of seconds, 0.1-3600");
  datahub::TestOptions options;
  options.timeout = std::chrono::milliseconds(static_cast<long long>(flags.timeout_seconds * 1000));
  auto store = context.open_store();
  const datahub::TestResult result = datahub::test_connection(*store, flags.id, options);
  if (flags.json) {
    std::cout << datahub::to_json(result) << "\n";
  } else if (result.ok) {
    std::cout << "ok: connection " << flags.id << " reached PostgreSQL " << result.server_version << " in "
              << milliseconds(result.latency) << "\n";
  } else {
    std::cout << "failed: connection " << flags.id << ": " << datahub::to_string(result.failure)
              << (result.sqlstate.empty() ? "" : " (SQLSTATE " + result.sqlstate + ")") << " after "
              << milliseconds(result.latency) << ": " << result.message << "\n";
  }
  return result.ok ? kOk : kOther;
}

}  // namespace

void add_test_command(CLI::App& app, Context& context) {
  auto flags = std::make_shared<TestFlags>();
  auto* sub = app.add_subcommand("test", "Connect to a stored connection's target; exit 0 if it worked, 1 if not");
  sub->add_option("id", flags->id, "connection id")->required()->transform(decimal());
  sub->add_option("--timeout", flags->timeout_seconds, "seconds for the whole attempt (0.1-3600)")
      ->check(CLI::Range(0.1, 3600.0))
      ->capture_default_str();
  sub->add_flag("--json", flags->json, "print the result as JSON (ok, latency_ms, server_version, failure, ...)");
  on_run(sub, context, [&context, flags] { return run(context, *flags); });
}

}  // namespace dhconn
