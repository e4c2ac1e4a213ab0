// Export: records -> JSON lines, secrets sealed to a passphrase or left out.
#include "model/details_json.hpp"
#include "transfer/export_line.hpp"
#include "transfer/passphrase_seal.hpp"
#include "transfer/record_rules.hpp"

#include <datahub/connection_type.hpp>
#include <datahub/error.hpp>
#include <datahub/store.hpp>
#include <datahub/transfer.hpp>

#include <limits>
#include <optional>
#include <ostream>

namespace datahub {
namespace {

constexpr int kPageSize = 1000;

// Moves the secret fields out of line.record.details into the returned Details.
Details take_secrets(transfer::ExportLine& line) {
  Details secrets;
  for (const auto& name : connection_type(line.record.type).secrets_present(line.record.details)) {
    const Details::Value& value = *line.record.details.find(name);
    if (const auto* s = std::get_if<std::string>(&value)) {
      secrets.set(name, *s);
    } else {
      secrets.set(name, std::get<std::int64_t>(value));
    }
    line.record.details.erase(name);
  }
  return secrets;
}

std::string where(std::size_t index) { return "records[" + std::to_string(index) + "]"; }

// An export is a backup: a line that import would refuse, or restore as something else,
// fails the export now rather than the restore later. Rows written by other clients can
// break the rules create() keeps (an empty name, 101 tags, a tag twice, updated_at before
// created_at, a time that reads as the epoch, an id below 1).
void check_importable(const Connection& record, std::size_t index) {
  const auto refuse = [&](const std::string& field, const std::string& reason) {
    throw InvalidArgument(where(index) + "." + field, reason + " (connection " + std::to_string(record.id) +
                                                          "); import would not restore it, so nothing was written");
  };
  Connection restorable;
  try {
    restorable = transfer::check_restorable(record);
  } catch (const InvalidArgument& e) {
    refuse(e.field(), transfer::reason_of(e));
  }
  if (restorable.tags.size() != record.tags.size()) refuse("tags", "holds a tag twice, which import would keep once");
}

}  // namespace

ExportReport write_export(const std::vector<Connection>& records, std::ostream& out, const ExportOptions& options) {
  std::optional<transfer::PassphraseSealer> sealer;
  if (options.passphrase && !options.passphrase->empty()) sealer.emplace(*options.passphrase, options.kdf);

  // Every line is built before the first is written: an error leaves the stream untouched.
  ExportReport report;
  std::string text;
  for (std::size_t i = 0; i < records.size(); ++i) {
    const Connection& record = records[i];
    if (record.error) throw InvalidArgument(where(i), "its details could not be opened");
    if (sealer && !record.redacted.empty())
      throw InvalidArgument(where(i) + ".connection_details", "secrets were redacted; read with Secrets::reveal to seal them");
    transfer::ExportLine line;
    line.record = record;
    line.record.redacted.clear();
    check_importable(line.record, i);  // with its secrets, when sealing: import checks them too
    const Details secrets = take_secrets(line);
    if (sealer && !secrets.empty()) {
      const SecretBytes plaintext = model::details_to_secret_json(secrets);
      line.sealed = sealer->seal(plaintext, transfer::associated_data(line.record));
      ++report.sealed;
    } else {
      line.redacted = record.redacted;
      for (const auto& [name, value] : secrets) line.redacted.push_back(name);
      if (!line.redacted.empty()) ++report.redacted;
    }
    text += transfer::write_line(line);
    text += '\n';
    ++report.records;
  }
  out << text;
  out.flush();
  if (!out) throw Error(ErrorCode::internal, "export: the output could not be written");
  return report;
}

ExportReport export_connections(ConnectionStore& store, std::ostream& out, const ExportOptions& options) {
  const bool sealing = options.passphrase && !options.passphrase->empty();
  ListQuery query = options.filter;
  query.after_id = std::numeric_limits<std::int64_t>::min();  // ids another client wrote below 1 too
  query.limit = kPageSize;
  std::vector<Connection> records;
  for (;;) {
    Page page = store.list(query, sealing ? Secrets::reveal : Secrets::redact);
    for (auto& c : page.items) {
      if (c.error) {
        const std::string message = "export: connection " + std::to_string(c.id) +
                                    " cannot be opened (" + c.error->message + "); nothing was written";
        if (c.error->code == ErrorCode::key_unavailable) throw KeyUnavailable(message);
        throw Integrity(message);
      }
      records.push_back(std::move(c));
    }
    if (!page.next_after_id) break;
    query.after_id = *page.next_after_id;
  }
  return write_export(records, out, options);
}

}  // namespace datahub
