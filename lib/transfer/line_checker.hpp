// The lines of an export file, read one at a time and judged with the rules restore()
// applies: the good records come out one by one, the bad lines are noted by number.
#pragma once

#include "transfer/export_line.hpp"
#include "transfer/id_lines.hpp"
#include "transfer/passphrase_seal.hpp"

#include <datahub/transfer.hpp>

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <vector>

namespace datahub::transfer {

class LineChecker {
 public:
  LineChecker(std::istream& in, const ImportOptions& options) : in_(in), options_(options) {}

  // The next good record (secrets opened, normalized), skipping blank lines and noting bad
  // ones in errors(); false at the end of the input, or once a line is too long or
  // too many lines were bad (the rest is left unread, and errors() says so). Throws Error(internal) only when the
  // stream itself fails. Holds one line and no record between calls.
  bool next(Connection& record);

  // The length of the line next() last read: what its record weighs, roughly.
  std::size_t line_bytes() const noexcept { return text_.size(); }
  const std::vector<ImportLineError>& errors() const noexcept { return errors_; }
  std::vector<ImportLineError> take_errors() { return std::move(errors_); }
  std::int64_t good() const noexcept { return good_; }
  std::int64_t sealed() const noexcept { return sealed_; }            // good records whose secrets were opened
  std::int64_t without_secrets() const noexcept { return without_secrets_; }  // good records exported without

 private:
  enum class LineSecrets { none, sealed, left_out };
  Connection check(std::size_t number, LineSecrets& secrets);
  PassphraseOpener& opener();

  std::istream& in_;
  const ImportOptions& options_;
  std::optional<PassphraseOpener> opener_;
  IdLines ids_;
  LineText text_;  // the current line, its buffer reused
  std::size_t number_ = 0;
  bool stopped_ = false;  // the rest of the input is not read
  std::vector<ImportLineError> errors_;
  std::int64_t good_ = 0, sealed_ = 0, without_secrets_ = 0;
};

}  // namespace datahub::transfer
