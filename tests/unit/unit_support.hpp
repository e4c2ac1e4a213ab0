// Helpers shared by the unit tests.
#pragma once

#include "crypto/base64.hpp"

#include <datahub/bytes.hpp>
#include <datahub/error.hpp>

#include <botan/system_rng.h>
#include <doctest/doctest.h>

#include <string>

namespace unit {

inline datahub::SecretBytes random_key(std::size_t n = 32) {
  datahub::SecretBytes k(n);
  Botan::system_rng().randomize(k.data(), k.size());
  return k;
}

inline std::string b64(const datahub::SecretBytes& k) { return datahub::crypto::base64_encode(k); }

// What `f` throws as InvalidArgument: its field, or its what() ("" when it throws nothing).
template <typename F>
std::string field_of(F&& f) {
  try {
    f();
  } catch (const datahub::InvalidArgument& e) {
    return e.field();
  }
  return "";
}

template <typename F>
std::string message_of(F&& f) {
  try {
    f();
  } catch (const datahub::InvalidArgument& e) {
    return e.what();
  }
  return "";
}

// The InvalidArgument that `f` throws; fails the test if it throws nothing.
template <typename F>
datahub::InvalidArgument invalid_argument_of(F&& f) {
  try {
    f();
  } catch (const datahub::InvalidArgument& e) {
    return e;
  }
  FAIL("no InvalidArgument thrown");
  return datahub::InvalidArgument("", "");
}

}  // namespace unit
