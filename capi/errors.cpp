// dhc_error objects and the exception-to-code mapping.
#include "errors.hpp"

#include <datahub/error.hpp>

#include <new>
#include <stdexcept>

namespace {

// Handed out when the error object itself cannot be allocated; dhc_error_free ignores it.
// Built on first use so that allocation failure cannot happen later.
dhc_error* out_of_memory_error() noexcept {
  static dhc_error* e = [] {
    try {
      return new dhc_error{DHC_INTERNAL, "out of memory", ""};
    } catch (...) {
      return static_cast<dhc_error*>(nullptr);
    }
  }();
  return e;
}

}  // namespace

namespace dhc_capi {

dhc_code fail(dhc_error** err, dhc_code code, const char* message,
              const char* sqlstate) noexcept {
  if (err == nullptr) return code;
  try {
    *err = new dhc_error{code, message, sqlstate};
  } catch (...) {
    *err = out_of_memory_error();
  }
  return code;
}

dhc_code fail_with_current_exception(dhc_error** err) noexcept {
  try {
    throw;
  } catch (const datahub::Database& e) {
    return fail(err, DHC_DATABASE, e.what(), e.sqlstate().c_str());
  } catch (const datahub::Error& e) {
    // The codes are numerically identical by design (error.hpp).
    const int code = static_cast<int>(e.code());
    if (code <= DHC_OK || code > DHC_INTERNAL) return fail(err, DHC_INTERNAL, e.what());
    return fail(err, static_cast<dhc_code>(code), e.what());
  } catch (const std::bad_alloc&) {
    return fail(err, DHC_INTERNAL, "out of memory");
  } catch (...) {
    // Not our hierarchy (SOCI, the standard library): their what() may quote bound values,
    // so it is not passed on.
    return fail(err, DHC_INTERNAL, "internal error: unexpected exception");
  }
}

void require(const void* p, const char* what) {
  if (p == nullptr) throw datahub::InvalidArgument(what, "must not be NULL");
}

}  // namespace dhc_capi

extern "C" {

DHC_API dhc_code dhc_error_code(const dhc_error* e) { return e ? e->code : DHC_OK; }

DHC_API const char* dhc_error_message(const dhc_error* e) {
  return e ? e->message.c_str() : "";
}

DHC_API const char* dhc_error_sqlstate(const dhc_error* e) {
  return e ? e->sqlstate.c_str() : "";
}

DHC_API void dhc_error_free(dhc_error* e) {
  if (e != nullptr && e != out_of_memory_error()) delete e;
}

}  // extern "C"
