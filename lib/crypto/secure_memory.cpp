// Botan's locked-memory pool is a function-local static, created on first use and
// destroyed in reverse order. A SecretBytes held by a static object created before the
// pool (a global keyring or store) would be freed after the pool is gone and crash at
// exit. Touching the pool while this library loads creates it before any static of the
// program that links us, so it is destroyed after them.
#include <datahub/bytes.hpp>

namespace datahub::crypto {
namespace {

const bool secure_pool_ready = [] {
  SecretBytes warm_up(1);
  return !warm_up.empty();
}();

}  // namespace
}  // namespace datahub::crypto
