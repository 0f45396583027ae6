// Secrets Manager GetSecretValue (AWS JSON 1.1) and the rule the executables use for keys: a
// setting NAME may come from a secret named by NAME_SECRET_ARN (optionally "ARN#json_key" to
// pick one key of a JSON secret); without NAME_SECRET_ARN, NAME itself (environment or config
// file) is the fallback. secret_settings.h applies the rule to a whole ConfigSource.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "shared/aws/aws_json_client.h"
#include "shared/config.h"

namespace shared::aws {

struct SecretValue {
  std::string arn;
  std::string name;
  std::string version_id;
  std::string secret_string;  // empty when the secret is binary
  std::string secret_binary;  // decoded bytes of SecretBinary
};

class SecretsManagerClient {
 public:
  // cache_ttl: how long a fetched value is reused (0 = always fetch).
  SecretsManagerClient(AwsSettings settings, std::shared_ptr<CredentialsProvider> credentials,
                       http::HttpClient& http,
                       std::chrono::seconds cache_ttl = std::chrono::minutes(5),
                       std::shared_ptr<RetryStrategy> retry = nullptr);

  // Throws AwsError (e.g. ResourceNotFoundException, AccessDeniedException) or TransportError.
  SecretValue get_secret_value(const std::string& secret_id, const std::string& version_stage = "");

 private:
  AwsJsonClient client_;
  std::chrono::seconds cache_ttl_;
  std::mutex mutex_;
  std::map<std::string, std::pair<std::chrono::steady_clock::time_point, SecretValue>> cache_;
};

// The value of setting `name` as described above. client may be null when no AWS access is set
// up. Throws ConfigError naming NAME_SECRET_ARN when it is set and the secret cannot be read
// (even when NAME is set too: a configured secret that fails is a misconfiguration, and silently
// signing with another key would only fail later and further away), or naming NAME when neither
// is set and `required`. The message never holds the secret's value.
std::string read_secret_setting(const ConfigSource& source, const std::string& name,
                                SecretsManagerClient* client, bool required = true);

}  // namespace shared::aws
