// The C ABI's exception guard (capi/errors.hpp): every exception becomes a code, and the
// what() of an exception from outside datahub::Error (SOCI, the standard library), which
// may quote bound values, is never passed on.
#include "errors.hpp"

#include <datahub/error.hpp>

#include <doctest/doctest.h>

#include <new>
#include <stdexcept>
#include <string>
#include <utility>

using dhc_capi::guarded;

namespace {

const std::string kMarker = "Pa55-word-MARKER";

// The code `body` comes out as, with the error's message and SQLSTATE.
template <class Body>
dhc_code run(Body&& body, std::string& message, std::string& sqlstate) {
  dhc_error* err = nullptr;
  const dhc_code code = guarded(&err, std::forward<Body>(body));
  message = dhc_error_message(err);
  sqlstate = dhc_error_sqlstate(err);
  CHECK(dhc_error_code(err) == code);
  dhc_error_free(err);
  return code;
}

}  // namespace

TEST_CASE("the C ABI guard turns every exception into a code and passes no foreign what() on") {
  std::string message, sqlstate;
  CHECK(run([] { throw std::runtime_error("bound value '" + kMarker + "'"); }, message, sqlstate) == DHC_INTERNAL);
  CHECK(message.find(kMarker) == std::string::npos);
  CHECK(message == "internal error: unexpected exception");
  CHECK(run([] { throw std::logic_error(kMarker); }, message, sqlstate) == DHC_INTERNAL);
  CHECK(message.find(kMarker) == std::string::npos);
  CHECK(run([] { throw 42; }, message, sqlstate) == DHC_INTERNAL);
  CHECK(run([] { throw std::bad_alloc(); }, message, sqlstate) == DHC_INTERNAL);
  CHECK(message == "out of memory");

  // The library's own errors keep their code, message and SQLSTATE.
  CHECK(run([] { throw datahub::NotFound("connection 7 not found"); }, message, sqlstate) == DHC_NOT_FOUND);
  CHECK(message == "connection 7 not found");
  CHECK(run([] { throw datahub::InvalidArgument("name", "too long"); }, message, sqlstate) ==
        DHC_INVALID_ARGUMENT);
  CHECK(message == "name: too long");
  CHECK(run([] { throw datahub::Database("create: check violated", "23514"); }, message, sqlstate) ==
        DHC_DATABASE);
  CHECK(sqlstate == "23514");

  // No error object asked for, or nothing thrown.
  CHECK(guarded(nullptr, [] { throw std::runtime_error("x"); }) == DHC_INTERNAL);
  dhc_error stale{DHC_CONFLICT, "from an earlier call", ""};
  dhc_error* err = &stale;  // must be reset to NULL
  CHECK(guarded(&err, [] {}) == DHC_OK);
  CHECK(err == nullptr);
}
