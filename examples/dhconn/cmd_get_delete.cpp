// dhconn get / delete: one connection by id.
#include "cli_errors.hpp"
#include "commands.hpp"
#include "record_output.hpp"

#include <datahub/target.hpp>

#include <iostream>

namespace dhconn {
namespace {

struct GetFlags {
  std::int64_t id = 0;
  bool reveal = false, json = false, conninfo = false, uri = false;
};

int run_get(const Context& context, const GetFlags& flags) {
  auto store = context.open_store();
  const auto c = store->get(flags.id, flags.reveal ? datahub::Secrets::reveal : datahub::Secrets::redact);
  if (flags.conninfo) {
    std::cout << datahub::to_conninfo(c) << "\n";
  } else if (flags.uri) {
    std::cout << datahub::to_uri(c) << "\n";
  } else if (flags.json) {
    std::cout << record_json(c) << "\n";
  } else {
    print_record(std::cout, c);
  }
  return kOk;
}

int run_delete(const Context& context, std::int64_t id) {
  auto store = context.open_store(/*needs_keys=*/false);
  store->remove(id);
  std::cout << "deleted connection " << id << "\n";
  return kOk;
}

}  // namespace

void add_get_command(CLI::App& app, Context& context) {
  auto flags = std::make_shared<GetFlags>();
  auto* sub = app.add_subcommand("get", "Show one connection; secrets stay hidden unless --reveal");
  sub->add_option("id", flags->id, "connection id")->required()->transform(decimal());
  sub->add_flag("--reveal", flags->reveal, "include the password (it is printed: mind your terminal and logs)");
  auto* json = sub->add_flag("--json", flags->json, "print as JSON");
  auto* conninfo = sub->add_flag("--conninfo", flags->conninfo, "print a libpq conninfo string (password only with --reveal)");
  auto* uri = sub->add_flag("--uri", flags->uri, "print a postgresql:// URI (password only with --reveal)");
  json->excludes(conninfo)->excludes(uri);
  conninfo->excludes(uri);
  on_run(sub, context, [&context, flags] { return run_get(context, *flags); });
}

void add_delete_command(CLI::App& app, Context& context) {
  auto id = std::make_shared<std::int64_t>(0);
  auto* sub = app.add_subcommand("delete", "Delete one connection");
  sub->add_option("id", *id, "connection id")->required()->transform(decimal());
  on_run(sub, context, [&context, id] { return run_delete(context, *id); });
}

}  // namespace dhconn
