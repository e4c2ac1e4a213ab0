// The tags encoding (store/record_codec.hpp): tags travel to the server as one JSON array
// and come back as array_to_json(tags) text.
//  - decode (tags_from_json) of arbitrary bytes: a list or Integrity, never a crash;
//    and what it decodes re-encodes to something that decodes to the same list.
//  - decode(encode(x)) == x for any list x of valid UTF-8 strings (the input split at
//    0xFF bytes; pieces that are not UTF-8 are dropped), before and after normalize_tags.
#include "fuzz_support.hpp"
#include "model/validation.hpp"
#include "store/record_codec.hpp"

#include <string>
#include <vector>

using datahub::ErrorCode;
using datahub::store::tags_from_json;
using datahub::store::tags_to_json;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const std::vector<std::string> decoded = tags_from_json(text);
    FUZZ_CHECK(tags_from_json(tags_to_json(decoded)) == decoded, "decode -> encode -> decode");
  } catch (const datahub::Error& e) {
    fuzz::expect_code(e, {ErrorCode::integrity});
  }

  std::vector<std::string> tags;
  for (auto& piece : fuzz::split_ff(data, size)) {
    if (fuzz::valid_utf8(piece)) tags.push_back(std::move(piece));
  }
  const std::string encoded = tags_to_json(tags);
  FUZZ_CHECK(fuzz::valid_utf8(encoded), "encoding is not UTF-8");
  std::vector<std::string> decoded;
  try {
    decoded = tags_from_json(encoded);
  } catch (const datahub::Error& e) {
    std::fprintf(stderr, "decode(encode(x)) threw: %s\n", e.what());
    FUZZ_CHECK(false, "decode(encode(x)) threw");
  }
  FUZZ_CHECK(decoded == tags, "decode(encode(x)) != x");

  try {
    const std::vector<std::string> normal = datahub::model::normalize_tags(tags);
    FUZZ_CHECK(tags_from_json(tags_to_json(normal)) == normal, "normalized round trip");
    FUZZ_CHECK(datahub::model::normalize_tags(normal) == normal, "normalize is not idempotent");
  } catch (const datahub::Error& e) {
    fuzz::expect_code(e, {ErrorCode::invalid_argument});
  }
  return 0;
}
