// C ABI entry point dhc_connection_update: its patch_json parser (dhc_capi::parse_patch),
// then the checks update() makes before the database and the details merge + validation
// it applies to the stored details (here a fixed valid record).
#include "capi_check.hpp"
#include "model/validation.hpp"
#include "store/record_codec.hpp"

#include <datahub/connection_type.hpp>

using datahub::ErrorCode;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const fuzz::CString json = fuzz::as_c_string(data, size);
  dhc_capi::ParsedPatch p;
  try {
    p = dhc_capi::parse_patch(json.c_str());
  } catch (const datahub::Error& e) {
    fuzz::expect_code(e, {ErrorCode::invalid_argument});
    return 0;
  }
  FUZZ_CHECK(p.force != p.expected_updated_at.has_value(), "exactly one of force / expected_updated_at");
  if (p.expected_updated_at) {
    // A timestamp the caller read must survive format -> parse (it goes back to update()).
    const std::string text = datahub::format_timestamp(*p.expected_updated_at);
    try {
      FUZZ_CHECK(datahub::parse_timestamp(text) == *p.expected_updated_at, "timestamp round trip");
    } catch (const datahub::Error& e) {
      std::fprintf(stderr, "parse_timestamp accepted an instant format_timestamp writes as %s\n",
                   text.c_str());
      FUZZ_CHECK(false, "format_timestamp(parse_timestamp(x)) does not parse");
    }
  }
  const datahub::ConnectionPatch& patch = p.patch;
  try {
    // What ConnectionStore::Impl::update checks first (lib/store/store_update.cpp).
    if (patch.name) datahub::model::check_name(*patch.name);
    if (patch.description && *patch.description) datahub::model::check_description(**patch.description);
    if (patch.tags) datahub::model::normalize_tags(*patch.tags);
    for (const auto& name : patch.details_remove) {
      if (patch.details.find(name)) return 0;  // InvalidArgument in update()
    }
    // The merge update() applies (merge_details), on a stored record's details.
    datahub::Details current;
    current.set("host", "db.example.com").set("port", 5432).set("database", "main")
        .set("username", "app").set("password", "pw");
    for (const auto& name : patch.details_remove) current.erase(name);
    for (const auto& [name, value] : patch.details) {
      if (const auto* s = std::get_if<std::string>(&value)) current.set(name, *s);
      else current.set(name, std::get<std::int64_t>(value));
    }
    const datahub::Details merged = datahub::connection_type("POSTGRESQL").validate(current);
    datahub::Connection record;
    record.id = 3;
    record.name = patch.name.value_or("unchanged");
    if (patch.description) record.description = *patch.description;
    record.type = "POSTGRESQL";
    record.details = merged;
    if (patch.tags) record.tags = datahub::model::normalize_tags(*patch.tags);
    fuzz::check_record_round_trip(record);
  } catch (const datahub::Error& e) {
    fuzz::expect_code(e, {ErrorCode::invalid_argument});
  }
  return 0;
}
