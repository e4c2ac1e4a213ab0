// CallbackProvider: a datahub::KeyProvider over the host's dhc_key_provider callbacks.
#pragma once

#include <datahub/connections.h>
#include <datahub/key_provider.hpp>

#include <atomic>
#include <string>

namespace dhc_capi {

class CallbackProvider final : public datahub::KeyProvider {
 public:
  // Copies the struct. Throws InvalidArgument for an unknown version or a missing callback.
  explicit CallbackProvider(const dhc_key_provider& callbacks);
  // Calls destroy(user_data) unless disarmed.
  ~CallbackProvider() override;
  CallbackProvider(const CallbackProvider&) = delete;
  CallbackProvider& operator=(const CallbackProvider&) = delete;

  // The open call failed: the host keeps ownership of user_data.
  void disarm() noexcept { armed_ = false; }

  std::string primary_key_id() const override;
  datahub::Bytes wrap(const std::string& key_id, const datahub::SecretBytes& dek,
                      const datahub::Bytes& aad) const override;
  datahub::SecretBytes unwrap(const std::string& key_id, const datahub::Bytes& edk,
                              const datahub::Bytes& aad) const override;

 private:
  dhc_key_provider callbacks_;
  std::atomic<bool> armed_{true};
};

}  // namespace dhc_capi
