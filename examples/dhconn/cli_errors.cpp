#include "cli_errors.hpp"

#include <iostream>

namespace dhconn {

int exit_code_for(datahub::ErrorCode code) noexcept {
  switch (code) {
    case datahub::ErrorCode::ok: return kOk;
    case datahub::ErrorCode::invalid_argument: return kUsage;
    case datahub::ErrorCode::not_found: return kNotFound;
    case datahub::ErrorCode::conflict: return kConflict;
    case datahub::ErrorCode::integrity:
    case datahub::ErrorCode::key_unavailable: return kKeyProblem;
    case datahub::ErrorCode::unavailable: return kUnavailable;
    case datahub::ErrorCode::database:
    case datahub::ErrorCode::internal: return kOther;
  }
  return kOther;
}

void check_stdout() {
  std::cout.flush();
  if (!std::cout) throw ExitError(kOther, "cannot write to standard output");
}

int report(int code, const std::string& message) {
  std::string line = message;
  for (char& c : line) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  std::cerr << "dhconn: " << line << "\n";
  return code;
}

}  // namespace dhconn
