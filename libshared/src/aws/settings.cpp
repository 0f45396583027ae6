#include "shared/aws/settings.h"

#include <algorithm>
#include <cctype>

#include "shared/aws/profile_file.h"

namespace shared::aws {
namespace {

// Service ids whose endpoint can be overridden, and the host prefix of their AWS endpoint.
struct ServiceHost {
  const char* id;
  const char* host;
};
constexpr ServiceHost kServices[] = {
    {"bedrock-runtime", "bedrock-runtime"}, {"bedrock", "bedrock"}, {"dynamodb", "dynamodb"},
    {"secrets-manager", "secretsmanager"},  {"sts", "sts"},
};

bool region_is_valid(const std::string& region) {
  if (region.empty() || region.size() > 64) return false;
  return std::all_of(region.begin(), region.end(), [](unsigned char c) {
    return std::islower(c) || std::isdigit(c) || c == '-';
  });
}

// An optional URL setting: empty when unset, validated when set.
std::string optional_url(const ConfigSource& source, const std::string& name) {
  auto v = source.get(name);
  if (!v || v->find_first_not_of(" \t") == std::string::npos) return "";
  return source.url(name, "");
}

}  // namespace

std::string endpoint_variable(const std::string& service_id) {
  std::string name = "AWS_ENDPOINT_URL_";
  for (unsigned char c : service_id)
    name += (c == '-' || c == ' ') ? '_' : static_cast<char>(std::toupper(c));
  return name;
}

AwsSettings read_aws_settings(const ConfigSource& source) {
  AwsSettings s;
  s.home = source.string("HOME", "");
  s.profile = source.string("AWS_PROFILE", "default");
  if (s.profile.empty()) s.profile = "default";
  s.shared_credentials_file = source.string("AWS_SHARED_CREDENTIALS_FILE", "");
  s.config_file = source.string("AWS_CONFIG_FILE", "");
  s.region = source.string("AWS_REGION", "");
  if (s.region.empty()) s.region = source.string("AWS_DEFAULT_REGION", "");
  const ProfileSection profile = load_profile(s, s.profile);
  if (s.region.empty()) {
    if (auto it = profile.find("region"); it != profile.end()) s.region = it->second;
  }
  if (!s.region.empty() && !region_is_valid(s.region))
    throw ConfigError("AWS_REGION", "not a region name: " + s.region);

  s.ignore_configured_endpoint_urls = source.boolean("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", false);
  s.endpoint_url_all = optional_url(source, "AWS_ENDPOINT_URL");
  // As the SDKs do, the profile's endpoint_url applies when the environment sets none.
  if (s.endpoint_url_all.empty()) {
    if (auto it = profile.find("endpoint_url"); it != profile.end() && !it->second.empty()) {
      ConfigSource from_profile(
          std::map<std::string, std::string>{{"AWS_ENDPOINT_URL", it->second}});
      s.endpoint_url_all = from_profile.url("AWS_ENDPOINT_URL", "");
    }
  }
  for (const auto& service : kServices) {
    const std::string var = endpoint_variable(service.id);
    std::string url = optional_url(source, var);
    if (!url.empty()) s.endpoint_urls[service.id] = url;
  }
  s.max_attempts = static_cast<int>(source.integer("AWS_MAX_ATTEMPTS", 3, 1, 20));

  s.access_key_id = source.string("AWS_ACCESS_KEY_ID", "");
  s.secret_access_key = source.string("AWS_SECRET_ACCESS_KEY", "");
  s.session_token = source.string("AWS_SESSION_TOKEN", "");
  s.web_identity_token_file = source.string("AWS_WEB_IDENTITY_TOKEN_FILE", "");
  s.role_arn = source.string("AWS_ROLE_ARN", "");
  s.role_session_name = source.string("AWS_ROLE_SESSION_NAME", "");
  s.container_relative_uri = source.string("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "");
  s.container_full_uri = source.string("AWS_CONTAINER_CREDENTIALS_FULL_URI", "");
  s.container_authorization_token = source.string("AWS_CONTAINER_AUTHORIZATION_TOKEN", "");
  s.container_authorization_token_file =
      source.string("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "");
  s.ec2_metadata_disabled = source.boolean("AWS_EC2_METADATA_DISABLED", false);
  s.ec2_metadata_v1_disabled = source.boolean("AWS_EC2_METADATA_V1_DISABLED", false);
  s.ec2_metadata_endpoint = optional_url(source, "AWS_EC2_METADATA_SERVICE_ENDPOINT");
  if (s.ec2_metadata_endpoint.empty()) s.ec2_metadata_endpoint = "http://169.254.169.254";
  while (!s.ec2_metadata_endpoint.empty() && s.ec2_metadata_endpoint.back() == '/')
    s.ec2_metadata_endpoint.pop_back();
  s.metadata_timeout =
      std::chrono::seconds(source.integer("AWS_METADATA_SERVICE_TIMEOUT", 1, 1, 60));
  s.connect_timeout = source.duration("AWS_CONNECT_TIMEOUT", std::chrono::seconds(3),
                                      std::chrono::milliseconds(100), std::chrono::minutes(5));
  s.request_timeout = source.duration("AWS_REQUEST_TIMEOUT", std::chrono::seconds(30),
                                      std::chrono::milliseconds(100), std::chrono::hours(1));
  return s;
}

std::string resolve_endpoint(const AwsSettings& settings, const std::string& service_id) {
  if (!settings.ignore_configured_endpoint_urls) {
    if (auto it = settings.endpoint_urls.find(service_id); it != settings.endpoint_urls.end())
      return it->second;
    if (!settings.endpoint_url_all.empty()) return settings.endpoint_url_all;
  }
  if (settings.region.empty())
    throw ConfigError("AWS_REGION", "not set (needed for the " + service_id + " endpoint)");
  std::string host = service_id;
  for (const auto& service : kServices)
    if (service_id == service.id) host = service.host;
  const bool china = settings.region.rfind("cn-", 0) == 0;
  return "https://" + host + "." + settings.region +
         (china ? ".amazonaws.com.cn" : ".amazonaws.com");
}

}  // namespace shared::aws
