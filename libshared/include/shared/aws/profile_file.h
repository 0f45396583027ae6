// The shared AWS `credentials` and `config` files: INI sections of key = value. In `config`,
// named profiles are "[profile NAME]" and the default is "[default]"; in `credentials` they are
// "[NAME]". Parsing never throws; unreadable files read as empty.
#pragma once

#include <map>
#include <string>

#include "shared/aws/settings.h"

namespace shared::aws {

using ProfileSection = std::map<std::string, std::string>;

// section name -> key -> value, keys lower-cased.
std::map<std::string, ProfileSection> parse_profile_text(const std::string& text);

// The profile's keys, merged from the config file and the credentials file (credentials win).
ProfileSection load_profile(const AwsSettings& settings, const std::string& profile);

std::string credentials_file_path(const AwsSettings& settings);
std::string config_file_path(const AwsSettings& settings);

}  // namespace shared::aws
