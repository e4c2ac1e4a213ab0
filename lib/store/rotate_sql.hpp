// The statement rotate() writes a re-wrapped batch with; the benchmark's re-wrap floor
// (tests/bench/rotate_section.cpp) runs the same one.
#pragma once

namespace datahub::store {

// Each row's envelope "kid" and "edk" replaced in place, the other members kept as stored,
// only where the key id and wrapped key are still the ones read. $1..$5: the rows' ids, key
// ids and wrapped keys as read, new key ids, new wrapped keys; each one comma-separated
// list, in the same order (no value holds a comma). Returns the ids written.
extern const char* const kRewrapBatchSql;

}  // namespace datahub::store
