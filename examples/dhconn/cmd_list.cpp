// dhconn list: every matching connection, paged through; a table or JSON.
#include "cli_errors.hpp"
#include "commands.hpp"
#include "record_output.hpp"

#include <iostream>

namespace dhconn {
namespace {

struct ListFlags {
  std::string type, name_prefix;
  std::vector<std::string> tags_all, tags_any;
  int page_size = 500;
  bool json = false;
};

int run(const Context& context, const ListFlags& flags) {
  datahub::ListQuery query;
  if (!flags.type.empty()) query.type = flags.type;
  if (!flags.name_prefix.empty()) query.name_prefix = flags.name_prefix;
  query.tags_all = flags.tags_all;
  query.tags_any = flags.tags_any;
  query.limit = flags.page_size;
  auto store = context.open_store();
  std::vector<datahub::Connection> all;
  for (;;) {
    auto page = store->list(query);
    for (auto& c : page.items) all.push_back(std::move(c));
    if (!page.next_after_id) break;
    query.after_id = *page.next_after_id;
  }
  if (flags.json) {
    std::cout << records_json(all) << "\n";
  } else {
    print_table(std::cout, all);
  }
  return kOk;
}

}  // namespace

void add_list_command(CLI::App& app, Context& context) {
  auto flags = std::make_shared<ListFlags>();
  auto* sub = app.add_subcommand("list", "List connections (secrets never shown), all pages");
  sub->add_option("--type", flags->type, "only this type")->check(non_empty());
  sub->add_option("--tag", flags->tags_all, "must have this tag (repeat: must have all)");
  sub->add_option("--any-tag", flags->tags_any, "must have at least one of these tags (repeatable)");
  sub->add_option("--name-prefix", flags->name_prefix, "name starts with this")->check(non_empty());
  sub->add_option("--page-size", flags->page_size, "rows fetched per round trip")
      ->transform(decimal())
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  sub->add_flag("--json", flags->json, "print a JSON array");
  on_run(sub, context, [&context, flags] { return run(context, *flags); });
}

}  // namespace dhconn
