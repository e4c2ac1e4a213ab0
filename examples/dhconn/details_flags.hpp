// The POSTGRESQL details as flags, shared by `add` and `update`. The password is never
// one of them: see secret_input.hpp.
#pragma once

#include <datahub/details.hpp>

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace dhconn {

struct DetailsFlags {
  std::string host, dbname, username, sslmode, application_name;
  std::int64_t port = 0, connect_timeout = 0;
  std::vector<CLI::Option*> given;  // to tell "not given" from "given empty"

  // Adds --host --port --dbname --username --sslmode --connect-timeout --application-name.
  void add_to(CLI::App* sub, bool required);
  // Only the flags that were given, under the details' field names.
  datahub::Details to_details() const;
};

}  // namespace dhconn
