// The C ABI's error path: dhc_error objects, and the guard that turns every exception
// into a dhc_code so that none crosses the boundary.
#pragma once

#include <datahub/connections.h>

#include <string>

struct dhc_error {
  dhc_code code;
  std::string message;
  std::string sqlstate;
};

namespace dhc_capi {

// Stores a new error in *err (when err is not NULL) and returns `code`. Never throws: when
// even the error object cannot be allocated, *err points at a static out-of-memory error.
dhc_code fail(dhc_error** err, dhc_code code, const char* message,
              const char* sqlstate = "") noexcept;

// Maps the exception being handled to a code and an error object. Call only from a catch.
dhc_code fail_with_current_exception(dhc_error** err) noexcept;

// Runs `body`, returning DHC_OK, or the code of whatever it threw.
template <class Body>
dhc_code guarded(dhc_error** err, Body&& body) noexcept {
  if (err != nullptr) *err = nullptr;
  try {
    body();
    return DHC_OK;
  } catch (...) {
    return fail_with_current_exception(err);
  }
}

// Throws InvalidArgument("<what>: must not be NULL") when p is NULL.
void require(const void* p, const char* what);

}  // namespace dhc_capi
