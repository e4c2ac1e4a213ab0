// C ABI entry points dhc_store_open / dhc_store_open_with_provider: their config_json parser
// (dhc_capi::parse_store_config, with keys from the config and from a host provider), the
// key providers it builds (a wrap/unwrap round trip), and, when the config names the
// sentinel database below, the whole public call, which must then fail cleanly: no server
// is ever contacted (the socket directory does not exist).
#include "fuzz_support.hpp"
#include "store_config.hpp"

#include <datahub/connections.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

using datahub::ErrorCode;

namespace {

constexpr const char* kSentinelDatabase = "host=/nonexistent/datahub-fuzz dbname=fuzz";
// 32 bytes 0x01..0x20, base64.
constexpr const char* kKeyB64 = "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=";

void write_file(const char* path, const std::string& content, mode_t mode) {
  const std::string tmp = std::string(path) + ".tmp." + std::to_string(::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return;
  (void)::fchmod(fd, mode);
  (void)!::write(fd, content.data(), content.size());
  ::close(fd);
  (void)::rename(tmp.c_str(), path);
}

int no_primary(void*, char*, size_t, size_t*) { return DHC_KEY_UNAVAILABLE; }
int no_wrap(void*, const char*, const uint8_t*, size_t, const uint8_t*, size_t, uint8_t*, size_t,
            size_t*) {
  return DHC_KEY_UNAVAILABLE;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // The "env" and "file" providers of the seeds find these.
  ::setenv("DATAHUB_CONNECTIONS_KEYS", (std::string("fuzz:k1:") + kKeyB64).c_str(), 1);
  ::setenv("DATAHUB_FUZZ_KEYS_TWO",
           (std::string("a:") + kKeyB64 + ",b:" + kKeyB64).c_str(), 1);
  ::setenv("DATAHUB_FUZZ_KEYS_BAD", "a:not-base64,", 1);
  const std::string ring = std::string("{\"primary\":\"f1\",\"keys\":{\"f1\":\"") + kKeyB64 + "\"}}";
  write_file("/tmp/datahub-fuzz-keyring.json", ring, 0600);
  write_file("/tmp/datahub-fuzz-keyring-open.json", ring, 0644);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const fuzz::CString json = fuzz::as_c_string(data, size);
  for (auto source : {dhc_capi::KeySource::config, dhc_capi::KeySource::host}) {
    datahub::StoreOptions o;
    try {
      o = dhc_capi::parse_store_config(json.c_str(), source);
    } catch (const datahub::Error& e) {
      fuzz::expect_code(e, {ErrorCode::invalid_argument, ErrorCode::key_unavailable});
      continue;
    }
    if (source == dhc_capi::KeySource::host) {
      FUZZ_CHECK(!o.keys, "host source built a key provider");
    } else {
      FUZZ_CHECK(o.keys != nullptr, "config source without a key provider");
      const std::string kid = o.keys->primary_key_id();
      datahub::SecretBytes dek(32, 0x5A);
      const datahub::Bytes aad = {1, 2, 3};
      const datahub::Bytes edk = o.keys->wrap(kid, dek, aad);
      FUZZ_CHECK(o.keys->unwrap(kid, edk, aad) == dek, "wrap/unwrap round trip");
    }
    FUZZ_CHECK(o.connect_timeout.count() >= 1 && o.connect_timeout.count() <= 3600, "connect_timeout");
    FUZZ_CHECK(o.acquire_timeout.count() >= 1 && o.acquire_timeout.count() <= 3600, "acquire_timeout");
    if (o.database != kSentinelDatabase) continue;

    // The public call on the same text: it must fail (nothing listens) with a typed error.
    dhc_store* store = reinterpret_cast<dhc_store*>(&store);  // must be reset to NULL
    dhc_error* err = nullptr;
    dhc_code code;
    if (source == dhc_capi::KeySource::config) {
      code = dhc_store_open(json.c_str(), &store, &err);
    } else {
      const dhc_key_provider provider = {DHC_KEY_PROVIDER_VERSION, nullptr, no_primary, no_wrap,
                                         no_wrap, nullptr};
      code = dhc_store_open_with_provider(json.c_str(), &provider, &store, &err);
    }
    FUZZ_CHECK(code != DHC_OK, "opened a store on a database that does not exist");
    FUZZ_CHECK(store == nullptr, "*out not NULL after a failed open");
    FUZZ_CHECK(err != nullptr && dhc_error_code(err) == code, "error object");
    if (code != DHC_INVALID_ARGUMENT && code != DHC_UNAVAILABLE && code != DHC_KEY_UNAVAILABLE) {
      std::fprintf(stderr, "dhc_store_open: code %d: %s\n", code, dhc_error_message(err));
      FUZZ_CHECK(false, "unexpected dhc_store_open error code");
    }
    dhc_error_free(err);
  }
  return 0;
}
