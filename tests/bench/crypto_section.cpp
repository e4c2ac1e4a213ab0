// Section "crypto": seal + open of one record, and each of its parts, against raw AES-GCM.
#include "bench.hpp"

#include "crypto/envelope.hpp"
#include "crypto/sealer.hpp"
#include "model/details_json.hpp"
#include "store/record_codec.hpp"

#include <botan/aead.h>
#include <botan/kdf.h>
#include <botan/system_rng.h>

#include <time.h>

namespace bench {

void Bench::crypto_bench() {
  say("\n== crypto: seal + open of one details object (one core)");
  auto keys = keyring(kKeys1);
  store::RecordCodec codec(keys, "A256GCM");
  crypto::DekCachePolicy cached;
  cached.ttl = std::chrono::seconds(3600);
  store::RecordCodec cached_codec(keys, "A256GCM", cached);
  const Details details = sample_details(42);
  const SecretBytes plain = model::details_to_secret_json(details);
  r_.details["crypto"]["details_json_bytes"] = static_cast<double>(plain.size());
  const std::string sample_env = codec.seal(details, 42);
  r_.details["crypto"]["envelope_json_bytes"] = static_cast<double>(sample_env.size());
  say("  details JSON " + std::to_string(plain.size()) + " bytes, envelope JSON " +
      std::to_string(sample_env.size()) + " bytes");

  // Times `op` in rounds of crypto_block calls; median microseconds per call.
  auto time_us = [&](const std::function<void(int)>& op) {
    for (int i = 0; i < o_.crypto_block; ++i) op(i);  // warm-up
    std::vector<double> per;
    for (int round = 0; round < o_.crypto_rounds; ++round) {
      const auto t0 = Clock::now();
      for (int i = 0; i < o_.crypto_block; ++i) op(i);
      per.push_back(seconds_since(t0) * 1e6 / o_.crypto_block);
    }
    return median(per);
  };
  volatile std::size_t sink = 0;
  std::vector<std::string> envs(static_cast<std::size_t>(o_.crypto_block));
  for (int i = 0; i < o_.crypto_block; ++i) envs[static_cast<std::size_t>(i)] = codec.seal(details, 1000 + i);

  auto& c = r_.details["crypto"];
  c["seal_open_us"] = time_us([&](int i) {
    std::string env = codec.seal(details, 1000 + i);
    Details d = codec.open(env, 1000 + i);
    sink = sink + d.size();
  });
  c["seal_us"] = time_us([&](int i) { sink = sink + codec.seal(details, 1000 + i).size(); });
  c["open_us"] = time_us([&](int i) {
    sink = sink + codec.open(envs[static_cast<std::size_t>(i)], 1000 + i).size();
  });
  c["seal_open_dek_cache_us"] = time_us([&](int i) {
    std::string env = cached_codec.seal(details, 1000 + i);
    Details d = cached_codec.open(env, 1000 + i);
    sink = sink + d.size();
  });

  // Components, to say where the time goes.
  const SecretBytes dek(32, 0x5a);
  const Bytes dek_aad = crypto::dek_associated_data("bench-k1");
  const Bytes edk = keys->wrap("bench-k1", dek, dek_aad);
  c["keyring_wrap_us"] = time_us([&](int) { sink = sink + keys->wrap("bench-k1", dek, dek_aad).size(); });
  c["keyring_unwrap_us"] = time_us([&](int) { sink = sink + keys->unwrap("bench-k1", edk, dek_aad).size(); });
  std::uint8_t rnd[44];
  c["system_rng_44B_us"] = time_us([&](int) {
    Botan::system_rng().randomize(rnd, sizeof rnd);
    sink = sink + rnd[0];
  });
  auto hkdf = Botan::KDF::create_or_throw("HKDF(SHA-256)");
  c["hkdf_sha256_us"] = time_us([&](int) {
    sink = sink + hkdf->derive_key(32, dek, rnd, 32, std::string("datahub.connections.cek.v1|A256GCM")).size();
  });
  const crypto::Envelope parsed = crypto::parse_envelope(sample_env);
  c["envelope_to_json_us"] = time_us([&](int) { sink = sink + crypto::to_json(parsed).size(); });
  c["envelope_parse_us"] = time_us([&](int) { sink = sink + crypto::parse_envelope(sample_env).edk.size(); });
  c["details_to_json_us"] = time_us([&](int) { sink = sink + model::details_to_secret_json(details).size(); });
  c["details_from_json_us"] = time_us([&](int) {
    SecretBytes copy = plain;
    sink = sink + model::details_from_secret_json(copy).size();
  });

  // Raw Botan AES-256/GCM on the same plaintext: mode objects made once, key set per call.
  auto enc = Botan::AEAD_Mode::create_or_throw("AES-256/GCM", Botan::ENCRYPTION);
  auto dec = Botan::AEAD_Mode::create_or_throw("AES-256/GCM", Botan::DECRYPTION);
  const SecretBytes key(32, 0x33);
  const std::vector<std::uint8_t> nonce(12, 0x44), ad(100, 0x55);
  c["raw_aes256gcm_seal_open_us"] = time_us([&](int) {
    SecretBytes buf(plain.begin(), plain.end());
    enc->set_key(key);
    enc->set_associated_data_vec(ad);
    enc->start(nonce);
    enc->finish(buf);
    dec->set_key(key);
    dec->set_associated_data_vec(ad);
    dec->start(nonce);
    dec->finish(buf);
    sink = sink + buf.size();
  });
  // ... and with the key schedule kept (what a cipher object per key would cost).
  enc->set_key(key);
  dec->set_key(key);
  c["raw_aes256gcm_seal_open_keyed_us"] = time_us([&](int) {
    SecretBytes buf(plain.begin(), plain.end());
    enc->set_associated_data_vec(ad);
    enc->start(nonce);
    enc->finish(buf);
    dec->set_associated_data_vec(ad);
    dec->start(nonce);
    dec->finish(buf);
    sink = sink + buf.size();
  });
  // What any JSON envelope would cost at least, whatever its key management: the AEAD with
  // its key schedule kept, and the details JSON written and parsed (same run).
  c["floor_keyed_aead_and_details_json_us"] =
      c["raw_aes256gcm_seal_open_keyed_us"] + c["details_to_json_us"] + c["details_from_json_us"];
  r_.keys["crypto_us_per_record"] = c["seal_open_us"];
  for (const auto& [k, v] : c) say("  " + k + " = " + fmt(v, 3));
}

}  // namespace bench
