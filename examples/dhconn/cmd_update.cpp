// dhconn update: change fields of a connection, guarded by the version the caller read.
#include "cli_errors.hpp"
#include "commands.hpp"
#include "details_flags.hpp"
#include "record_output.hpp"
#include "secret_input.hpp"

#include <iostream>

namespace dhconn {
namespace {

struct UpdateFlags {
  std::int64_t id = 0;
  std::string name, description, expected_updated_at;
  bool clear_description = false, clear_tags = false, force = false, json = false;
  bool password_prompt = false, remove_password = false;
  std::vector<std::string> tags, remove;
  DetailsFlags details;
  SecretFlags password;
  CLI::Option *name_option = nullptr, *description_option = nullptr, *tags_option = nullptr;
};

datahub::ConnectionPatch build_patch(const UpdateFlags& flags) {
  datahub::ConnectionPatch patch;
  if (flags.name_option->count()) patch.name = flags.name;
  if (flags.description_option->count()) patch.description = std::optional<std::string>(flags.description);
  if (flags.clear_description) patch.description = std::optional<std::string>();
  if (flags.tags_option->count()) patch.tags = flags.tags;
  if (flags.clear_tags) patch.tags = std::vector<std::string>{};
  patch.details = flags.details.to_details();
  patch.details_remove = flags.remove;
  if (flags.remove_password) patch.details_remove.push_back("password");
  if (flags.password.given() || flags.password_prompt) {
    Secret password = read_secret(flags.password, "New password", /*confirm=*/true);
    if (password.value().empty()) throw UsageError("the new password is empty: use --remove-password to remove it");
    patch.details.set("password", password.value());
  }
  return patch;
}

int run(const Context& context, const UpdateFlags& flags) {
  if (flags.force == !flags.expected_updated_at.empty())
    throw UsageError("give --expected-updated-at (the updated_at you read) or --force, exactly one");
  // Parsed before anything is read or prompted for: a typo fails fast.
  const auto expected = flags.force ? datahub::Timestamp{}
                                    : datahub::parse_timestamp(flags.expected_updated_at, "--expected-updated-at");
  const datahub::ConnectionPatch patch = build_patch(flags);
  if (patch.empty()) throw UsageError("nothing to change: see dhconn update --help");
  auto store = context.open_store();
  const auto actor = context.resolved_actor();
  const auto updated = flags.force ? store->force_update(flags.id, patch, actor)
                                   : store->update(flags.id, patch, actor, expected);
  if (flags.json) {
    std::cout << record_json(updated) << "\n";
  } else {
    print_record(std::cout, updated);
  }
  return kOk;
}

}  // namespace

void add_update_command(CLI::App& app, Context& context) {
  auto flags = std::make_shared<UpdateFlags>();
  auto* sub = app.add_subcommand("update", "Change a connection; needs --expected-updated-at (from get) or --force");
  sub->add_option("id", flags->id, "connection id")->required()->transform(decimal());
  flags->name_option = sub->add_option("--name", flags->name, "new name");
  flags->description_option = sub->add_option("--description", flags->description, "new description");
  auto* clear_description = sub->add_flag("--clear-description", flags->clear_description, "remove the description");
  flags->tags_option = sub->add_option("--tag", flags->tags, "replace the tags (repeat for several)");
  auto* clear_tags = sub->add_flag("--clear-tags", flags->clear_tags, "remove every tag");
  flags->details.add_to(sub, /*required=*/false);
  sub->add_option("--remove", flags->remove, "remove a details field, e.g. sslmode (repeatable)");
  add_secret_flags(sub, flags->password, "password");
  auto* prompt = sub->add_flag("--password-prompt", flags->password_prompt, "prompt for a new password (no echo)");
  auto* remove_password = sub->add_flag("--remove-password", flags->remove_password, "remove the stored password");
  auto* expected = sub->add_option("--expected-updated-at", flags->expected_updated_at,
                                   "the updated_at you read; refused (exit 4) if the record changed since")
                       ->check(non_empty());
  auto* force = sub->add_flag("--force", flags->force, "skip the version check: last writer wins");
  sub->add_flag("--json", flags->json, "print the updated record as JSON");
  clear_description->excludes(flags->description_option);
  clear_tags->excludes(flags->tags_option);
  expected->excludes(force);
  prompt->excludes(sub->get_option("--password-stdin"))->excludes(sub->get_option("--password-file"));
  remove_password->excludes(prompt)
      ->excludes(sub->get_option("--password-stdin"))
      ->excludes(sub->get_option("--password-file"));
  on_run(sub, context, [&context, flags] { return run(context, *flags); });
}

}  // namespace dhconn
