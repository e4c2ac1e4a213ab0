// The host's key callbacks behind the C++ KeyProvider interface.
//
// Buffers are the library's: the callback copies into them and reports the size it needs,
// and is called again with a larger buffer when it did not fit. So Python and Go never hand
// the library memory it would have to free, and never keep the library's pointers.
#include "callback_provider.hpp"

#include <datahub/error.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

namespace dhc_capi {
namespace {

constexpr std::size_t kFirstCapacity = 256;
constexpr std::size_t kMaxOutput = 64 * 1024;  // a wrapped key is far smaller

std::string describe(const char* op, const std::string& key_id) {
  return std::string("key provider: ") + op + (key_id.empty() ? "" : " under key \"" + key_id + "\"");
}

// Whether a callback's DHC_INTEGRITY keeps its meaning ("the wrapped key or its associated
// data was altered"): only unwrap can say that; from any other callback it is a failure.
enum class IntegrityCode { meaningful, failure };

// Calls `call(out, capacity, &length)` until the output fits. `Buffer` is Bytes or SecretBytes.
template <class Buffer, class Call>
Buffer call_with_buffer(const char* op, const std::string& key_id, IntegrityCode integrity, Call&& call) {
  Buffer out(kFirstCapacity);
  for (int attempt = 0; attempt < 2; ++attempt) {
    std::size_t length = 0;
    int rc = DHC_KEY_UNAVAILABLE;
    try {
      rc = call(out.data(), out.size(), &length);
    } catch (...) {
      // A C++ host's callback threw: report, do not let it unwind through the store.
      rc = DHC_KEY_UNAVAILABLE;
    }
    if (rc == DHC_INTEGRITY && integrity == IntegrityCode::meaningful) {
      throw datahub::Integrity(describe(op, key_id) + " failed: data altered");
    }
    if (rc != DHC_OK) {
      throw datahub::KeyUnavailable(describe(op, key_id) + " failed (code " + std::to_string(rc) + ")");
    }
    if (length == 0 || length > kMaxOutput) {
      throw datahub::KeyUnavailable(describe(op, key_id) + " returned an invalid length");
    }
    if (length <= out.size()) {
      out.resize(length);
      return out;
    }
    out.assign(length, 0);  // SecretBytes wipes the smaller buffer it replaces
  }
  throw datahub::KeyUnavailable(describe(op, key_id) + " kept asking for a larger buffer");
}

}  // namespace

CallbackProvider::CallbackProvider(const dhc_key_provider& callbacks) : callbacks_(callbacks) {
  if (callbacks.version != DHC_KEY_PROVIDER_VERSION) {
    armed_ = false;
    throw datahub::InvalidArgument("provider.version", "must be DHC_KEY_PROVIDER_VERSION (1)");
  }
  if (!callbacks.primary_key_id || !callbacks.wrap || !callbacks.unwrap) {
    armed_ = false;
    throw datahub::InvalidArgument("provider", "primary_key_id, wrap and unwrap are required");
  }
}

CallbackProvider::~CallbackProvider() {
  if (armed_ && callbacks_.destroy != nullptr) callbacks_.destroy(callbacks_.user_data);
}

std::string CallbackProvider::primary_key_id() const {
  auto id = call_with_buffer<datahub::Bytes>(
      "primary_key_id", "", IntegrityCode::failure, [&](std::uint8_t* out, std::size_t cap, std::size_t* len) {
        return callbacks_.primary_key_id(callbacks_.user_data, reinterpret_cast<char*>(out), cap,
                                         len);
      });
  if (id.size() > 255) throw datahub::KeyUnavailable("key provider: primary key id too long");
  return std::string(id.begin(), id.end());
}

datahub::Bytes CallbackProvider::wrap(const std::string& key_id, const datahub::SecretBytes& dek,
                                      const datahub::Bytes& aad) const {
  return call_with_buffer<datahub::Bytes>(
      "wrap", key_id, IntegrityCode::failure, [&](std::uint8_t* out, std::size_t cap, std::size_t* len) {
        return callbacks_.wrap(callbacks_.user_data, key_id.c_str(), dek.data(), dek.size(),
                               aad.data(), aad.size(), out, cap, len);
      });
}

datahub::SecretBytes CallbackProvider::unwrap(const std::string& key_id, const datahub::Bytes& edk,
                                              const datahub::Bytes& aad) const {
  return call_with_buffer<datahub::SecretBytes>(
      "unwrap", key_id, IntegrityCode::meaningful, [&](std::uint8_t* out, std::size_t cap, std::size_t* len) {
        return callbacks_.unwrap(callbacks_.user_data, key_id.c_str(), edk.data(), edk.size(),
                                 aad.data(), aad.size(), out, cap, len);
      });
}

}  // namespace dhc_capi

