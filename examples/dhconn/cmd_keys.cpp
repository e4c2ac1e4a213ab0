// dhconn keys census|rotate|verify: which keys protect which rows, and moving them on.
#include "cli_errors.hpp"
#include "commands.hpp"

#include <unistd.h>

#include <iomanip>
#include <iostream>

namespace dhconn {
namespace {

struct KeysFlags {
  bool json = false, dry_run = false, reencrypt = false;
  std::size_t batch_size = 500;
  int workers = 1;
};

int run_census(const Context& context, const KeysFlags& flags) {
  auto store = context.open_store();
  const auto census = store->census();
  if (flags.json) {
    std::cout << datahub::to_json(census) << "\n";
    return kOk;
  }
  // Key ids and cipher names are read from the rows, which any client of the table writes:
  // an escape sequence or a newline in them must not reach the terminal.
  std::cout << std::left << std::setw(32) << "KEY_ID" << std::setw(10) << "ALG" << "ROWS\n";
  for (const auto& k : census.keys) {
    // Rows with no key id were not sealed by this library: verify names them.
    std::cout << std::setw(32) << (k.key_id.empty() ? "(no key id)" : printable(k.key_id)) << std::setw(10)
              << printable(k.alg) << k.rows
              << (k.key_id == census.primary_key_id ? "  (primary)" : "") << "\n";
  }
  std::cout << "primary key: " << printable(census.primary_key_id) << "\n";
  return kOk;
}

// A bar redrawn in place on a terminal; plain lines when stderr is a file or a pipe.
void show_progress(const datahub::RotateReport& r, bool terminal) {
  const std::int64_t total = std::max<std::int64_t>(r.remaining_estimate, r.scanned);
  if (!terminal) {
    std::cerr << "rotate: " << r.scanned << "/" << total << " rows scanned, " << r.rewritten << " rewritten\n";
    return;
  }
  constexpr int kWidth = 30;
  const int filled = total > 0 ? static_cast<int>(kWidth * r.scanned / total) : kWidth;
  std::cerr << "\r[" << std::string(static_cast<std::size_t>(filled), '#')
            << std::string(static_cast<std::size_t>(kWidth - filled), '.') << "] " << r.scanned << "/" << total
            << " rows" << std::flush;
}

int run_rotate(const Context& context, const KeysFlags& flags) {
  // A worker without a session of its own would only wait for another's.
  auto store = context.open_store(true, static_cast<std::size_t>(flags.workers));
  datahub::RotateOptions options;
  options.batch_size = flags.batch_size;
  options.dry_run = flags.dry_run;
  options.reencrypt = flags.reencrypt;
  options.workers = flags.workers;
  const bool terminal = isatty(STDERR_FILENO) == 1;
  options.progress = [terminal](const datahub::RotateReport& r) { show_progress(r, terminal); };
  const auto r = store->rotate(options);
  if (terminal) std::cerr << "\n";
  if (flags.json) {
    std::cout << datahub::to_json(r) << "\n";
  } else {
    std::cout << (flags.dry_run ? "dry run: would rewrite " : "rewrote ") << r.rewritten << " of " << r.scanned
              << " row(s) onto key " << printable(store->keys().primary_key_id()) << "; " << r.skipped_changed
              << " changed concurrently (run again), " << r.failed << " could not be opened (see keys verify)\n";
  }
  if (r.failed > 0) return kKeyProblem;
  return r.skipped_changed > 0 ? kConflict : kOk;
}

int run_verify(const Context& context, const KeysFlags& flags) {
  auto store = context.open_store();
  const auto report = store->verify(flags.batch_size);
  if (flags.json) {
    std::cout << datahub::to_json(report) << "\n";
  } else {
    for (const auto& f : report.failed)
      std::cout << "connection " << f.id << ": " << datahub::to_string(f.code) << ": " << printable(f.message) << "\n";
    std::cout << "checked " << report.checked << " row(s): "
              << (report.failed.empty() ? "all open" : std::to_string(report.failed.size()) + " failed") << "\n";
  }
  return report.failed.empty() ? kOk : kKeyProblem;
}

}  // namespace

void add_keys_command(CLI::App& app, Context& context) {
  auto* keys = app.add_subcommand("keys", "Key management: census, rotate, verify");
  keys->require_subcommand(1);

  auto census = std::make_shared<KeysFlags>();
  auto* c = keys->add_subcommand("census", "Count rows per key id and cipher (before retiring a key)");
  c->add_flag("--json", census->json, "print as JSON");
  on_run(c, context, [&context, census] { return run_census(context, *census); });

  auto rotate = std::make_shared<KeysFlags>();
  auto* r = keys->add_subcommand(
      "rotate", "Move every row onto the primary key, online, in batches (exit 4: rows changed meanwhile, run again)");
  r->add_flag("--dry-run", rotate->dry_run, "read and re-wrap in memory, write nothing");
  r->add_option("--batch-size", rotate->batch_size, "ids per batch (one transaction each)")
      ->transform(decimal())
      ->check(CLI::Range(1, 10000))
      ->capture_default_str();
  r->add_option("--workers", rotate->workers, "batches in flight at once")
      ->transform(decimal())
      ->check(CLI::Range(1, 16))
      ->capture_default_str();
  r->add_flag("--reencrypt", rotate->reencrypt, "re-encrypt fully with a fresh data key, not only re-wrap it");
  r->add_flag("--json", rotate->json, "print the report as JSON");
  on_run(r, context, [&context, rotate] { return run_rotate(context, *rotate); });

  auto verify = std::make_shared<KeysFlags>();
  verify->batch_size = 1000;
  auto* v = keys->add_subcommand("verify", "Open every row and list those that fail (exit 5 if any); changes nothing");
  v->add_option("--batch-size", verify->batch_size, "rows read per round trip")
      ->transform(decimal())
      ->check(CLI::Range(1, 10000))
      ->capture_default_str();
  v->add_flag("--json", verify->json, "print as JSON");
  on_run(v, context, [&context, verify] { return run_verify(context, *verify); });
}

}  // namespace dhconn
