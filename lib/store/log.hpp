// The store's optional log sink; a no-op when the application set none.
#pragma once

#include <datahub/store.hpp>

#include <string>

namespace datahub::store {

class Log {
 public:
  explicit Log(LogCallback callback = {}) : callback_(std::move(callback)) {}
  void operator()(LogLevel level, const std::string& message) const noexcept {
    if (!callback_) return;
    try {
      callback_(level, message);
    } catch (...) {
      // A failing log sink must not fail the operation being logged.
    }
  }

 private:
  LogCallback callback_;
};

}  // namespace datahub::store
