// Versioned schema migrations, recorded in datahub_schema_migrations.
#pragma once

#include "store/log.hpp"

#include <soci/soci.h>

namespace datahub::store {

int latest_schema_version();

// The highest applied version, 0 when none (or no migrations table yet).
int current_schema_version(soci::session& sql);

// Applies (up) or reverts (down) migrations until `target` is the current version, in
// one transaction holding a transaction-level advisory lock, so concurrent callers
// serialize and the second finds nothing left to do. Once committed, each migration
// applied or reverted is logged (info).
void migrate_schema_to(soci::session& sql, int target, const Log& log);

}  // namespace datahub::store
