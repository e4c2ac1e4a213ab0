// Validation of the columns a caller writes, with the seed's limits.
#pragma once

#include <datahub/connection.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace datahub::model {

inline constexpr std::size_t kNameMaxChars = 100;    // VARCHAR(100)
inline constexpr std::size_t kActorMaxChars = 50;    // VARCHAR(50)
inline constexpr std::size_t kTagMaxChars = 200;     // the seed sets none; a sane bound
inline constexpr std::size_t kMaxTags = 100;
inline constexpr std::size_t kDescriptionMaxChars = 10000;

void check_name(std::string_view name);
void check_actor(std::string_view actor, const std::string& field);
void check_description(std::string_view description);
// Checks every tag and returns them with duplicates removed, first occurrence kept.
std::vector<std::string> normalize_tags(const std::vector<std::string>& tags,
                                        const std::string& field = "tags");

}  // namespace datahub::model
