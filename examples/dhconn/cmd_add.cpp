// dhconn add: create a connection. The password comes from a prompt, stdin or a file.
#include "cli_errors.hpp"
#include "commands.hpp"
#include "details_flags.hpp"
#include "record_output.hpp"
#include "secret_input.hpp"

#include <iostream>

namespace dhconn {
namespace {

struct AddFlags {
  std::string name, description, type = "POSTGRESQL";
  std::vector<std::string> tags;
  DetailsFlags details;
  SecretFlags password;
  bool no_password = false;
  bool json = false;
  CLI::Option* description_option = nullptr;
};

int run(const Context& context, const AddFlags& flags) {
  datahub::NewConnection input;
  input.name = flags.name;
  if (flags.description_option->count()) input.description = flags.description;
  input.type = flags.type;
  input.tags = flags.tags;
  input.details = flags.details.to_details();
  if (!flags.no_password) {
    if (!flags.password.given() && !stdin_is_terminal())
      throw UsageError("give the password with --password-stdin or --password-file, or pass --no-password");
    Secret password = read_secret(flags.password, "Password for " + flags.details.username + "@" + flags.details.host +
                                                       " (empty: none)");
    // From stdin or a file, empty is more likely a script's empty variable than a choice.
    if (password.value().empty() && flags.password.given())
      throw UsageError("the password read is empty: pass --no-password to store none");
    if (!password.value().empty()) input.details.set("password", password.value());
  }
  auto store = context.open_store();
  const datahub::Connection created = store->create(input, context.resolved_actor());
  if (flags.json) {
    std::cout << record_json(created) << "\n";
  } else {
    print_record(std::cout, created);
  }
  return kOk;
}

}  // namespace

void add_add_command(CLI::App& app, Context& context) {
  auto flags = std::make_shared<AddFlags>();
  auto* sub = app.add_subcommand("add", "Create a connection (the password is prompted for, or read from stdin or a file)");
  sub->add_option("--name", flags->name, "display name, 1-100 characters")->required();
  flags->description_option = sub->add_option("--description", flags->description, "free text");
  sub->add_option("--type", flags->type, "connection type")->capture_default_str();
  sub->add_option("--tag", flags->tags, "a tag (repeat for several)");
  flags->details.add_to(sub, /*required=*/true);
  add_secret_flags(sub, flags->password, "password");
  auto* none = sub->add_flag("--no-password", flags->no_password, "store no password (e.g. for peer or cert auth)");
  none->excludes(sub->get_option("--password-stdin"));
  none->excludes(sub->get_option("--password-file"));
  sub->add_flag("--json", flags->json, "print the created record as JSON");
  on_run(sub, context, [&context, flags] { return run(context, *flags); });
}

}  // namespace dhconn
