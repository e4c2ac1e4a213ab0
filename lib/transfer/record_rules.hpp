// The rules create() applies, extended to a whole record as restore() writes it (id and
// audit columns included). Shared by ConnectionStore::restore and import, so a file is
// judged line by line with exactly the rules the store enforces.
// (It depends on lib/model only; it would sit in lib/model if that were this layer's to edit.)
#pragma once

#include <datahub/connection.hpp>

namespace datahub::transfer {

// Returns the record normalized (details validated, defaults filled in, duplicate tags
// dropped). Throws InvalidArgument naming the field ("name", "connection_details.port", ...).
// Never echoes a value.
Connection check_restorable(const Connection& record);

// The reason part of an InvalidArgument ("<field>: <reason>" -> "<reason>").
std::string reason_of(const InvalidArgument& error);

}  // namespace datahub::transfer
