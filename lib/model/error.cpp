#include <datahub/error.hpp>

namespace datahub {

const char* to_string(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::ok: return "ok";
    case ErrorCode::invalid_argument: return "invalid_argument";
    case ErrorCode::not_found: return "not_found";
    case ErrorCode::conflict: return "conflict";
    case ErrorCode::integrity: return "integrity";
    case ErrorCode::key_unavailable: return "key_unavailable";
    case ErrorCode::database: return "database";
    case ErrorCode::unavailable: return "unavailable";
    case ErrorCode::internal: return "internal";
  }
  return "unknown";
}

Error::Error(ErrorCode code, const std::string& message) : std::runtime_error(message), code_(code) {}

InvalidArgument::InvalidArgument(const std::string& field, const std::string& reason)
    : Error(ErrorCode::invalid_argument, field + ": " + reason), field_(field) {}

NotFound::NotFound(const std::string& message) : Error(ErrorCode::not_found, message) {}
Conflict::Conflict(const std::string& message) : Error(ErrorCode::conflict, message) {}
Integrity::Integrity(const std::string& message) : Error(ErrorCode::integrity, message) {}
KeyUnavailable::KeyUnavailable(const std::string& message)
    : Error(ErrorCode::key_unavailable, message) {}
Database::Database(const std::string& message, const std::string& sqlstate)
    : Error(ErrorCode::database, message), sqlstate_(sqlstate) {}
Unavailable::Unavailable(const std::string& message) : Error(ErrorCode::unavailable, message) {}

}  // namespace datahub
