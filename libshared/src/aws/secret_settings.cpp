#include "shared/aws/secret_settings.h"

#include "shared/logging.h"

namespace shared::aws {
namespace {

bool references_a_secret(const ConfigSource& source, const std::string& name) {
  return !source.string(name + "_SECRET_ARN", "").empty();
}

}  // namespace

ConfigSource resolve_secret_settings(const ConfigSource& source,
                                     const std::vector<std::string>& names,
                                     SecretsManagerClient& client) {
  ConfigSource resolved = source;
  for (const auto& name : names) {
    if (!references_a_secret(source, name)) continue;
    const std::string value = read_secret_setting(source, name, &client);
    log::add_secret(value);
    resolved.set(name, value);
  }
  return resolved;
}

ConfigSource resolve_secret_settings(const ConfigSource& source,
                                     const std::vector<std::string>& names) {
  bool any = false;
  for (const auto& name : names) any = any || references_a_secret(source, name);
  if (!any) return source;
  // Startup only: the client, its credentials chain and HTTP client live for this call.
  const AwsSettings settings = read_aws_settings(source);
  http::HttpClient http;
  SecretsManagerClient client(settings, make_default_credentials_chain(settings, http), http);
  return resolve_secret_settings(source, names, client);
}

}  // namespace shared::aws
