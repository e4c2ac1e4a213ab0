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
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    // C0 controls and DEL; C1 controls (U+0080-U+009F, 0xC2 0x80-0x9F in UTF-8) as one '?'.
    const bool c1 = c == 0xC2 && i + 1 < text.size() && (static_cast<unsigned char>(text[i + 1]) & 0xE0) == 0x80;
    if (c < 0x20 || c == 0x7F || c1) {
      out += '?';
      if (c1) ++i;
    } else {
      out += text[i];
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
