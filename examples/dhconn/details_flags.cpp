#include "details_flags.hpp"

#include "context.hpp"

namespace dhconn {

void DetailsFlags::add_to(CLI::App* sub, bool required) {
  auto* h = sub->add_option("--host", host, "target host name, IP address or socket directory");
  auto* d = sub->add_option("--dbname", dbname, "target database (the details' \"database\" field)");
  auto* u = sub->add_option("--username", username, "role to log in as");
  if (required) {
    h->required();
    d->required();
    u->required();
  }
  given = {h,
           sub->add_option("--port", port, "target port (default 5432)")->transform(decimal()),
           d,
           u,
           sub->add_option("--sslmode", sslmode, "libpq sslmode: disable allow prefer require verify-ca verify-full"),
           sub->add_option("--connect-timeout", connect_timeout, "target connect_timeout in seconds")
               ->transform(decimal()),
           sub->add_option("--application-name", application_name, "application_name to report to the target")};
}

datahub::Details DetailsFlags::to_details() const {
  datahub::Details d;
  if (given[0]->count()) d.set("host", host);
  if (given[1]->count()) d.set("port", port);
  if (given[2]->count()) d.set("database", dbname);
  if (given[3]->count()) d.set("username", username);
  if (given[4]->count()) d.set("sslmode", sslmode);
  if (given[5]->count()) d.set("connect_timeout", connect_timeout);
  if (given[6]->count()) d.set("application_name", application_name);
  return d;
}

}  // namespace dhconn
