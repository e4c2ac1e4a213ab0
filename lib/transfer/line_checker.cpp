#include "transfer/line_checker.hpp"

#include "model/details_json.hpp"
#include "transfer/export_line.hpp"
#include "transfer/record_rules.hpp"

#include <datahub/connection_type.hpp>
#include <datahub/error.hpp>

#include <istream>

namespace datahub::transfer {
namespace {

// The longest line read. A real one is far shorter (the longest description, tags and
// details, escaped, take ~200 KiB); std::getline would hold a line of any length in memory.
constexpr std::size_t kMaxLineBytes = std::size_t{1} << 20;

enum class Line { end, ok, too_long };

// The next byte. A std::filebuf throws std::ios_base::failure on a read error (the file is
// a directory, EIO): the callers are promised Error(internal) when the stream fails.
int next_byte(std::streambuf& buffer) {
  try {
    return buffer.sbumpc();
  } catch (const std::exception&) {
    throw Error(ErrorCode::internal, "import: the input could not be read");
  }
}

// Bad lines noted before the rest of the input is left unread: a file that is not an
// export at all (random bytes, a log) would otherwise fill memory with them.
constexpr std::size_t kMaxBadLines = 100;

// The next line without its '\n'. Reading stops at the first byte past kMaxLineBytes: the
// line's end may never come (/dev/zero), so the caller reads no further.
Line next_line(std::istream& in, LineText& line) {
  line.clear();
  bool any = false;
  // From the stream buffer directly: istream::get builds a sentry for every byte.
  std::streambuf* buffer = in.rdbuf();
  if (buffer == nullptr) {
    in.setstate(std::ios::badbit);
    return Line::end;
  }
  for (int c = next_byte(*buffer); c != std::char_traits<char>::eof(); c = next_byte(*buffer)) {
    any = true;
    if (c == '\n') break;
    if (line.size() == kMaxLineBytes) return Line::too_long;
    line += static_cast<char>(c);
  }
  if (!any) {
    in.setstate(std::ios::eofbit);
    return Line::end;
  }
  return Line::ok;
}

bool is_blank(const LineText& line) {
  return line.find_first_not_of(" \t\r") == LineText::npos;
}

// Opens a line's sealed secrets and puts them back among its details.
void unseal_into(Connection& record, const SealedSecrets& sealed, PassphraseOpener& opener) {
  SecretBytes plaintext = opener.open(sealed, associated_data(record));
  const Details secrets = model::details_from_secret_json(plaintext);
  const ConnectionType& type = connection_type(record.type);
  for (const auto& [name, value] : secrets) {
    const FieldSpec* spec = type.field(name);
    if (!spec || !spec->secret) throw InvalidArgument("sealed_secrets", "holds a field that is not secret");
    if (record.details.find(name)) throw InvalidArgument("connection_details." + name, "is both sealed and in clear");
    if (const auto* s = std::get_if<std::string>(&value)) {
      record.details.set(name, *s);
    } else {
      record.details.set(name, std::get<std::int64_t>(value));
    }
  }
}

// A line's "redacted" names the secrets export left out: each a secret field of the type,
// absent from the line's details. Anything else was edited in, and would make the line
// count as without secrets while it holds them (or name a field nobody can restore).
void check_redacted(const ExportLine& line) {
  if (line.redacted.empty()) return;
  if (line.sealed) throw InvalidArgument("redacted", "is given with sealed_secrets; an export writes one or the other");
  const ConnectionType& type = connection_type(line.record.type);
  for (const auto& name : line.redacted) {
    const FieldSpec* spec = type.field(name);
    if (!spec || !spec->secret) throw InvalidArgument("redacted", "names a field that is not a secret of the type");
    if (line.record.details.find(name))
      throw InvalidArgument("redacted", "names a secret that connection_details hold in clear");
  }
}

}  // namespace

bool LineChecker::next(Connection& record) {
  for (Line state; !stopped_ && (state = next_line(in_, text_)) != Line::end;) {
    ++number_;
    if (state == Line::too_long) {
      errors_.push_back({number_, ErrorCode::invalid_argument,
                         "record: is longer than " + std::to_string(kMaxLineBytes) +
                             " bytes; the rest of the input was not read"});
      stopped_ = true;
      break;
    }
    if (is_blank(text_)) continue;
    if (number_ == 1 && text_.compare(0, 3, "\xEF\xBB\xBF") == 0) {  // an editor's, never an export's
      errors_.push_back({number_, ErrorCode::invalid_argument,
                         "record: the file starts with a UTF-8 byte-order mark; save it without one"});
      continue;
    }
    try {
      LineSecrets secrets = LineSecrets::none;
      record = check(number_, secrets);
      ++good_;
      if (secrets == LineSecrets::sealed) ++sealed_;
      if (secrets == LineSecrets::left_out) ++without_secrets_;
      return true;
    } catch (const Error& e) {
      errors_.push_back({number_, e.code(), e.what()});
      if (errors_.size() == kMaxBadLines) {
        errors_.push_back({number_, ErrorCode::invalid_argument,
                           "record: " + std::to_string(kMaxBadLines) +
                               " bad lines; the rest of the input was not read"});
        stopped_ = true;
      }
    }
  }
  if (in_.bad()) throw Error(ErrorCode::internal, "import: the input could not be read");
  return false;
}

// The current line's record, checked, or throws why it cannot be used. The line is parsed
// in place, so it cannot be parsed twice.
Connection LineChecker::check(std::size_t number, LineSecrets& secrets) {
  ExportLine line = parse_line(text_);
  check_redacted(line);
  if (line.sealed) unseal_into(line.record, *line.sealed, opener());
  secrets = line.sealed ? LineSecrets::sealed : line.redacted.empty() ? LineSecrets::none : LineSecrets::left_out;
  Connection record = check_restorable(line.record);
  if (const auto first = ids_.seen_on(record.id, number)) {
    throw InvalidArgument("id", *first ? "is also on line " + std::to_string(*first) : "is also on an earlier line");
  }
  return record;
}

PassphraseOpener& LineChecker::opener() {
  if (!opener_) {
    if (!options_.passphrase) throw KeyUnavailable("sealed_secrets: a passphrase is needed to open them");
    opener_.emplace(options_.passphrase());
  }
  return *opener_;
}

}  // namespace datahub::transfer
