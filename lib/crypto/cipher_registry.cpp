#include "crypto/botan_aead.hpp"
#include "crypto/cipher_name.hpp"

#include <datahub/cipher.hpp>
#include <datahub/error.hpp>

#include <map>
#include <mutex>
#include <shared_mutex>

namespace datahub {
namespace {

struct Registry {
  std::shared_mutex mutex;
  std::map<std::string, std::shared_ptr<const Cipher>, std::less<>> ciphers;

  Registry() {
    for (auto cipher : {crypto::make_a256gcm(), crypto::make_xc20p()}) {
      ciphers.emplace(cipher->name(), cipher);
    }
  }
};

Registry& registry() {
  static Registry instance;
  return instance;
}

}  // namespace

void register_cipher(std::shared_ptr<const Cipher> cipher) {
  if (!cipher) throw InvalidArgument("cipher", "must not be null");
  const std::string name = cipher->name();
  if (!crypto::is_valid_cipher_name(name)) {
    throw InvalidArgument("cipher", "name must be 1-16 characters of [A-Za-z0-9_-]");
  }
  auto& r = registry();
  std::unique_lock lock(r.mutex);
  r.ciphers[name] = std::move(cipher);
}

std::shared_ptr<const Cipher> find_cipher(std::string_view name) {
  auto& r = registry();
  std::shared_lock lock(r.mutex);
  auto it = r.ciphers.find(name);
  return it == r.ciphers.end() ? nullptr : it->second;
}

}  // namespace datahub
