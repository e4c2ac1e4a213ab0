#include "model/validation.hpp"

#include "model/text.hpp"

#include <datahub/error.hpp>

#include <algorithm>

namespace datahub::model {

void check_name(std::string_view name) { check_text(name, "name", 1, kNameMaxChars); }

void check_actor(std::string_view actor, const std::string& field) {
  check_text(actor, field, 1, kActorMaxChars);
}

void check_description(std::string_view description) {
  check_text(description, "description", 0, kDescriptionMaxChars);
}

std::vector<std::string> normalize_tags(const std::vector<std::string>& tags, const std::string& field) {
  std::vector<std::string> unique;
  for (std::size_t i = 0; i < tags.size(); ++i) {
    check_text(tags[i], field + "[" + std::to_string(i) + "]", 1, kTagMaxChars);
    if (std::find(unique.begin(), unique.end(), tags[i]) == unique.end()) unique.push_back(tags[i]);
  }
  if (unique.size() > kMaxTags) {
    throw InvalidArgument(field, "at most " + std::to_string(kMaxTags) + " tags");
  }
  return unique;
}

}  // namespace datahub::model
