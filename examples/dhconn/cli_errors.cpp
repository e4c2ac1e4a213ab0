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

std::string printable(const std::string& text) {
  std::string out = text;
  for (std::size_t i = 0; i < out.size(); ++i) {
    const auto c = static_cast<unsigned char>(out[i]);
    // C0 controls and DEL; C1 controls (U+0080-U+009F, 0xC2 0x80-0x9F in UTF-8) as one '?'.
    if (c < 0x20 || c == 0x7F) {
      out[i] = '?';
    } else if (c == 0xC2 && i + 1 < out.size() && static_cast<unsigned char>(out[i + 1]) < 0xA0 &&
               static_cast<unsigned char>(out[i + 1]) >= 0x80) {
      out.replace(i, 2, "?");
    }
  }
  return out;
}

int report(int code, const std::string& message) {
  std::string line = message;
  for (char& c : line) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  std::cerr << "dhconn: " << printable(line) << "\n";
  return code;
}

}  // namespace dhconn
