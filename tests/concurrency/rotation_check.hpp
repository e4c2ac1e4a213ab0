// After the mixed run: every row rotated onto a new key by several workers at once, so
// that the ThreadSanitizer run (which builds only this program) covers rotate()'s threads.
#pragma once

#include <datahub/connections.hpp>

#include <cstdint>
#include <set>
#include <string>
#include <vector>

// Reads `ids` through `store`, rotates them onto a new key (conc:k2, with the store's
// conc:k1 kept to read) with 3 workers, and reads them again. Returns what went wrong:
// a report that is not "every row once", rows left on the old key, a row that changed.
std::vector<std::string> check_rotation_with_workers(datahub::ConnectionStore& store,
                                                     const datahub::StoreOptions& options,
                                                     const std::set<std::int64_t>& ids);
