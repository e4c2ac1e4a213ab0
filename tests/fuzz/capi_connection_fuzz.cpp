// C ABI entry point dhc_connection_create: its connection_json parser
// (dhc_capi::parse_new_connection), then every check create() makes before it touches the
// database, the seal/open of the validated details, and the record writer (write_record)
// whose output must read back to the same record.
#include "capi_check.hpp"
#include "fuzz_keys.hpp"
#include "model/validation.hpp"
#include "store/record_codec.hpp"

#include <datahub/connection_type.hpp>

using datahub::ErrorCode;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const fuzz::CString json = fuzz::as_c_string(data, size);
  datahub::NewConnection c;
  try {
    c = dhc_capi::parse_new_connection(json.c_str());
  } catch (const datahub::Error& e) {
    fuzz::expect_code(e, {ErrorCode::invalid_argument});
    return 0;
  }
  // What ConnectionStore::create checks first (lib/store/connection_store.cpp).
  datahub::Details details;
  std::vector<std::string> tags;
  try {
    datahub::model::check_name(c.name);
    if (c.description) datahub::model::check_description(*c.description);
    details = datahub::connection_type(c.type).validate(c.details);
    tags = datahub::model::normalize_tags(c.tags);
    FUZZ_CHECK(datahub::store::tags_from_json(datahub::store::tags_to_json(tags)) == tags, "tags");
  } catch (const datahub::Error& e) {
    fuzz::expect_code(e, {ErrorCode::invalid_argument});
    return 0;
  }
  static const datahub::store::RecordCodec codec(fuzz::fixed_keys(), "A256GCM");
  const std::string envelope = codec.seal(details, 7);
  FUZZ_CHECK(codec.open(envelope, 7) == details, "seal/open");

  datahub::Connection record;
  record.id = 7;
  record.name = c.name;
  record.description = c.description;
  record.type = c.type;
  record.details = details;
  record.tags = tags;
  record.created_by = record.updated_by = "fuzz";
  record.key_id = fuzz::kPrimaryKid;
  record.alg = "A256GCM";
  fuzz::check_record_round_trip(record);  // revealed
  record.redacted = datahub::store::redact(record.details, record.type);
  fuzz::check_record_round_trip(record);  // redacted
  const datahub::ConnectionType& type = datahub::connection_type(c.type);
  FUZZ_CHECK(type.secrets_present(record.details).empty(), "redact left a secret");
  return 0;
}
