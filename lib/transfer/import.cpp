// Import: JSON lines -> checked records -> ConnectionStore::restore, all or nothing.
#include "model/details_json.hpp"
#include "transfer/export_line.hpp"
#include "transfer/passphrase_seal.hpp"
#include "transfer/record_rules.hpp"

#include <datahub/connection_type.hpp>
#include <datahub/error.hpp>
#include <datahub/store.hpp>
#include <datahub/transfer.hpp>

#include <istream>
#include <map>
#include <optional>

namespace datahub {
namespace {

// The longest line read. A real one is far shorter (the longest description, tags and
// details, escaped, take ~200 KiB); std::getline would hold a line of any length in memory.
constexpr std::size_t kMaxLineBytes = std::size_t{1} << 20;

enum class Line { end, ok, too_long };

// The next line without its '\n'. A line over kMaxLineBytes is read to its end but not kept.
Line next_line(std::istream& in, std::string& line) {
  line.clear();
  bool any = false, too_long = false;
  // From the stream buffer directly: istream::get builds a sentry for every byte.
  std::streambuf* buffer = in.rdbuf();
  if (buffer == nullptr) {
    in.setstate(std::ios::badbit);
    return Line::end;
  }
  for (int c = buffer->sbumpc(); c != std::char_traits<char>::eof(); c = buffer->sbumpc()) {
    any = true;
    if (c == '\n') break;
    if (line.size() < kMaxLineBytes) {
      line += static_cast<char>(c);
    } else {
      too_long = true;
    }
  }
  if (!any) {
    in.setstate(std::ios::eofbit);
    return Line::end;
  }
  return too_long ? Line::too_long : Line::ok;
}

bool is_blank(const std::string& line) {
  return line.find_first_not_of(" \t\r") == std::string::npos;
}

// Opens a line's sealed secrets and puts them back among its details.
void unseal_into(Connection& record, const transfer::SealedSecrets& sealed, transfer::PassphraseOpener& opener) {
  SecretBytes plaintext = opener.open(sealed, transfer::associated_data(record));
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

class LineReader {
 public:
  explicit LineReader(const ImportOptions& options) : options_(options) {}

  // Checks one line and adds its record to `out`, or throws why it cannot be used.
  void read(const std::string& text, std::size_t number, ParsedExport& out) {
    transfer::ExportLine line = transfer::parse_line(text);
    Connection record = std::move(line.record);
    if (line.sealed) {
      unseal_into(record, *line.sealed, opener());
      ++out.sealed;
    } else if (!line.redacted.empty()) {
      ++out.without_secrets;
    }
    record = transfer::check_restorable(record);
    auto [seen, fresh] = lines_by_id_.emplace(record.id, number);
    if (!fresh) throw InvalidArgument("id", "is also on line " + std::to_string(seen->second));
    out.records.push_back(std::move(record));
  }

 private:
  transfer::PassphraseOpener& opener() {
    if (!opener_) {
      if (!options_.passphrase) throw KeyUnavailable("sealed_secrets: a passphrase is needed to open them");
      opener_.emplace(options_.passphrase());
    }
    return *opener_;
  }

  const ImportOptions& options_;
  std::optional<transfer::PassphraseOpener> opener_;
  std::map<std::int64_t, std::size_t> lines_by_id_;
};

}  // namespace

ParsedExport read_export(std::istream& in, const ImportOptions& options) {
  ParsedExport out;
  LineReader reader(options);
  std::string text;
  std::size_t number = 0;
  for (Line state; (state = next_line(in, text)) != Line::end;) {
    ++number;
    if (state == Line::too_long) {
      out.errors.push_back({number, ErrorCode::invalid_argument,
                            "record: is longer than " + std::to_string(kMaxLineBytes) + " bytes"});
      continue;
    }
    if (is_blank(text)) continue;
    try {
      reader.read(text, number, out);
    } catch (const Error& e) {
      out.errors.push_back({number, e.code(), e.what()});
    }
  }
  if (in.bad()) throw Error(ErrorCode::internal, "import: the input could not be read");
  return out;
}

ImportReport import_connections(ConnectionStore& store, std::istream& in, const ImportOptions& options) {
  ParsedExport parsed = read_export(in, options);
  ImportReport report;
  report.records = static_cast<std::int64_t>(parsed.records.size());
  report.sealed = parsed.sealed;
  report.without_secrets = parsed.without_secrets;
  report.errors = std::move(parsed.errors);
  if (!report.errors.empty() || options.dry_run) return report;
  store.restore(parsed.records);
  report.written = true;
  return report;
}

}  // namespace datahub
