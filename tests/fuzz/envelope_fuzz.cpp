// Envelope v1 parser (crypto/envelope.hpp) and the whole open path a stored row takes
// (RecordCodec::open: parse, unwrap, AEAD open, details JSON). The input plays the
// connection_details column, which whoever can write the database controls: every input
// must end in a value or in Integrity / KeyUnavailable, never a crash or another error.
#include "crypto/envelope.hpp"
#include "fuzz_keys.hpp"
#include "fuzz_support.hpp"
#include "store/record_codec.hpp"

#include <string>
#include <string_view>

using datahub::ErrorCode;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view json(reinterpret_cast<const char*>(data), size);

  // 1. The parser alone; what it accepts must survive to_json -> parse unchanged.
  try {
    const datahub::crypto::Envelope e = datahub::crypto::parse_envelope(json);
    FUZZ_CHECK(e.v == datahub::crypto::kEnvelopeVersion, "version");
    FUZZ_CHECK(e.mid.size() == datahub::crypto::kMessageIdBytes, "mid size");
    const std::string again = datahub::crypto::to_json(e);
    const datahub::crypto::Envelope e2 = datahub::crypto::parse_envelope(again);
    FUZZ_CHECK(e2.alg == e.alg && e2.kid == e.kid && e2.mid == e.mid && e2.edk == e.edk &&
                   e2.nonce == e.nonce && e2.ciphertext == e.ciphertext,
               "to_json/parse_envelope round trip");
    FUZZ_CHECK(datahub::crypto::to_json(e2) == again, "to_json is not canonical");
  } catch (const datahub::Error& e) {
    fuzz::expect_code(e, {ErrorCode::integrity});
  }

  // 2. The full open, as get/list do with a stored row (row id 1: the seeds' id).
  static const datahub::store::RecordCodec codec(fuzz::fixed_keys(), "A256GCM");
  try {
    datahub::crypto::Envelope parsed;
    const datahub::Details d = codec.open(std::string(json), 1, &parsed);
    // Only an authentic envelope opens; then it must also re-seal and open again.
    const std::string resealed = codec.seal(d, 1);
    FUZZ_CHECK(codec.open(resealed, 1) == d, "seal/open round trip");
    try {
      codec.open(resealed, 2);
      FUZZ_CHECK(false, "an envelope opened under another row id");
    } catch (const datahub::Error& e) {
      fuzz::expect_code(e, {ErrorCode::integrity});
    }
  } catch (const datahub::Error& e) {
    fuzz::expect_code(e, {ErrorCode::integrity, ErrorCode::key_unavailable});
  }
  return 0;
}
