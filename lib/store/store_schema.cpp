// ConnectionStore: schema migrations and the seed's rollback plan.
#include "store/migrations.hpp"
#include "store/sql_error.hpp"
#include "store/store_impl.hpp"

namespace datahub {

void ConnectionStore::migrate() {
  try {
    auto lease = impl_->pool.lease();
    store::migrate_schema_to(lease.session(), store::latest_schema_version(), impl_->log);
  } catch (...) {
    store::rethrow_as_datahub_error("migrate");
  }
}

SchemaStatus ConnectionStore::schema_status() {
  try {
    auto lease = impl_->pool.lease();
    return {store::current_schema_version(lease.session()), store::latest_schema_version()};
  } catch (...) {
    store::rethrow_as_datahub_error("schema status");
  }
}

void ConnectionStore::rollback_indexes() {
  try {
    auto lease = impl_->pool.lease();
    // Version 1 is the bare table: every index migration above it is reverted.
    if (store::current_schema_version(lease.session()) > 1) store::migrate_schema_to(lease.session(), 1, impl_->log);
  } catch (...) {
    store::rethrow_as_datahub_error("rollback indexes");
  }
}

void ConnectionStore::drop_table() {
  try {
    auto lease = impl_->pool.lease();
    store::migrate_schema_to(lease.session(), 0, impl_->log);
  } catch (...) {
    store::rethrow_as_datahub_error("drop table");
  }
}

}  // namespace datahub
