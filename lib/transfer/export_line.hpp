// One line of an export file <-> its parts. Only JSON here; no crypto, no store.
#pragma once

#include "transfer/passphrase_seal.hpp"

#include <datahub/connection.hpp>

#include <botan/secmem.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace datahub::transfer {

struct ExportLine {
  Connection record;                    // details hold the clear (non-secret) fields only
  std::vector<std::string> redacted;    // secret fields left out
  std::optional<SealedSecrets> sealed;  // secret fields sealed to a passphrase
};

// The line, without its newline. Throws Error(internal) if a secret field is among the
// clear details: the last guard before a password would reach a file.
std::string write_line(const ExportLine& line);

// A line as read from a file, in memory wiped when freed or outgrown: a hand-written line
// may hold a password in clear.
using LineText = std::basic_string<char, std::char_traits<char>, Botan::secure_allocator<char>>;

// Parses the line in place: its strings are unescaped within `text`, then copied out, so no
// other buffer holds them. Throws InvalidArgument naming the field for anything malformed
// or unexpected.
ExportLine parse_line(LineText& text);

// What the sealed secrets are bound to: the record's id, type and clear details
// (sorted by name, length-prefixed), so editing them makes the secrets fail to open.
Bytes associated_data(const Connection& record);

}  // namespace datahub::transfer
