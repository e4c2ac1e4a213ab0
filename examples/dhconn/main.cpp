// dhconn: the operator's CLI for the DataHub connections store.
#include "cli_errors.hpp"
#include "commands.hpp"

#include <CLI/CLI.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <functional>
#include <iostream>

namespace {

// Subcommands get the exit codes in their --help too.
void add_footer_everywhere(CLI::App* app) {
  app->footer(dhconn::kExitCodesHelp);
  for (CLI::App* sub : app->get_subcommands([](CLI::App*) { return true; })) add_footer_everywhere(sub);
}

// `--password x` would be echoed back by the parser's "not expected" message: refuse it
// by name, without repeating what followed it. So would a value given to a flag that reads
// a secret (`--password-stdin=x`, `--seal=x`: "Could not convert: --seal = x").
void refuse_secrets_in_argv(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    for (const char* flag : {"--password", "--passphrase"}) {
      if (arg == flag || arg.rfind(std::string(flag) + "=", 0) == 0)
        throw dhconn::UsageError(std::string(flag) + " is not accepted: the command line is visible to other "
                                 "users. Use the prompt, " + flag + "-stdin or " + flag + "-file");
    }
    for (const char* flag : {"--password-stdin", "--password-prompt", "--passphrase-stdin", "--seal"}) {
      if (arg.rfind(std::string(flag) + "=", 0) == 0)
        throw dhconn::UsageError(std::string(flag) + " takes no value (and a secret on the command line is "
                                 "visible to other users)");
    }
  }
}

int run(int argc, char** argv) {
  refuse_secrets_in_argv(argc, argv);
  dhconn::Context context;
  CLI::App app{"dhconn: manage the DataHub connections store (migrate, add, get, list, update, delete, "
               "test, keys, export, import)",
               "dhconn"};
  app.fallthrough();  // global options may come after the subcommand
  app.require_subcommand(1);
  dhconn::add_global_options(app, context);
  dhconn::add_migrate_command(app, context);
  dhconn::add_add_command(app, context);
  dhconn::add_get_command(app, context);
  dhconn::add_list_command(app, context);
  dhconn::add_update_command(app, context);
  dhconn::add_delete_command(app, context);
  dhconn::add_test_command(app, context);
  dhconn::add_keys_command(app, context);
  dhconn::add_export_command(app, context);
  dhconn::add_import_command(app, context);
  add_footer_everywhere(&app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ExtrasError&) {
    // The parser's message repeats the arguments, and one may be a secret typed after a
    // flag that takes none (`--seal hunter2`): name none of them.
    return dhconn::report(dhconn::kUsage,
                          "an argument was not expected (not repeated here: it may be a secret; see --help)");
  } catch (const CLI::ConversionError& e) {
    // "Could not convert: --flag = value": the flag only.
    const std::string message = e.what();
    return dhconn::report(dhconn::kUsage, message.substr(0, message.find(" = ")) + " (see --help)");
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    return dhconn::report(dhconn::kUsage, std::string(e.what()) + " (see --help)");
  }
  if (!context.action) return dhconn::kUsage;
  const int code = context.action();
  if (code == dhconn::kOk) dhconn::check_stdout();
  return code;
}

// A descriptor 0-2 the caller left closed would be taken by the first file or socket we
// open, the store's database connection: stdout would be written into it. Hold each with
// /dev/null opened read-only, so that writing fails (and is reported) instead.
void hold_standard_descriptors() {
  for (int fd = 0; fd <= 2; ++fd) {
    if (fcntl(fd, F_GETFD) == -1 && errno == EBADF) {
      const int held = open("/dev/null", O_RDONLY);  // the lowest free descriptor: fd
      if (held >= 0 && held != fd) close(held);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  hold_standard_descriptors();
  try {
    return run(argc, argv);
  } catch (const dhconn::UsageError& e) {
    return dhconn::report(dhconn::kUsage, e.what());
  } catch (const dhconn::ExitError& e) {
    return dhconn::report(e.code(), e.what());
  } catch (const datahub::Error& e) {
    // Library messages never hold a secret or a bound value; a hint says where to look.
    std::string hint;
    if (e.code() == datahub::ErrorCode::integrity || e.code() == datahub::ErrorCode::key_unavailable)
      hint = " (check the keys: DATAHUB_CONNECTIONS_KEYS or --keys-file)";
    if (e.code() == datahub::ErrorCode::unavailable) hint = " (check DATAHUB_DATABASE or --database, and the server)";
    return dhconn::report(dhconn::exit_code_for(e.code()), e.what() + hint);
  } catch (const std::exception& e) {
    return dhconn::report(dhconn::kOther, std::string("unexpected error: ") + e.what());
  }
}
