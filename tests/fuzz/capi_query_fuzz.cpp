// C ABI entry point dhc_connection_list: its query_json parser (dhc_capi::parse_query),
// then the checks list() makes before it builds SQL, and the page writer.
#include "capi_check.hpp"
#include "model/text.hpp"
#include "model/validation.hpp"
#include "store/record_codec.hpp"

#include <datahub/connection_type.hpp>

using datahub::ErrorCode;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const fuzz::CString json = fuzz::as_c_string(data, size);
  datahub::ListQuery q;
  try {
    q = dhc_capi::parse_query(size == 0 ? nullptr : json.c_str());
  } catch (const datahub::Error& e) {
    fuzz::expect_code(e, {ErrorCode::invalid_argument});
    return 0;
  }
  try {
    // What ConnectionStore::list checks (lib/store/connection_store.cpp).
    if (q.limit < 1 || q.limit > 1000) return 0;
    if (q.type) datahub::connection_type(*q.type);
    for (const auto* list : {&q.tags_all, &q.tags_any}) {
      const auto tags = datahub::model::normalize_tags(*list);
      FUZZ_CHECK(datahub::store::tags_from_json(datahub::store::tags_to_json(tags)) == tags, "tags");
    }
    if (q.name_prefix) datahub::model::check_text(*q.name_prefix, "name_prefix", 1, 100);
  } catch (const datahub::Error& e) {
    fuzz::expect_code(e, {ErrorCode::invalid_argument});
    return 0;
  }
  // The page writer with the query's strings in a record.
  datahub::Page page;
  datahub::Connection c;
  c.id = q.after_id;
  c.name = q.name_prefix.value_or("x");
  c.type = q.type.value_or("POSTGRESQL");
  c.tags = q.tags_any;
  c.error = datahub::RowError{datahub::ErrorCode::integrity, q.name_prefix.value_or("")};
  page.items.push_back(c);
  page.next_after_id = q.after_id;
  const std::unique_ptr<char, void (*)(char*)> text(dhc_capi::write_page(page), dhc_string_free);
  dhc_capi::Document doc;
  try {
    dhc_capi::parse_strict(doc, text.get(), "page");
  } catch (const datahub::Error& e) {
    std::fprintf(stderr, "write_page wrote unreadable JSON: %s\n", e.what());
    FUZZ_CHECK(false, "write_page output does not parse");
  }
  FUZZ_CHECK(doc.IsObject() && doc["items"].IsArray() && doc["items"].Size() == 1, "page shape");
  FUZZ_CHECK(doc["next_after_id"].GetInt64() == q.after_id, "next_after_id");
  FUZZ_CHECK(doc["items"][0]["connection_details"].IsNull(), "an error row has null details");
  return 0;
}
