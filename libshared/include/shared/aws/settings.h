// AWS settings as the AWS SDKs read them (region, profile, endpoint overrides, retry attempts and
// what the credential providers need), parsed once from the ConfigSource.
#pragma once

#include <chrono>
#include <map>
#include <string>

#include "shared/config.h"

namespace shared::aws {

struct AwsSettings {
  std::string region;  // AWS_REGION, then AWS_DEFAULT_REGION, then the profile's region
  std::string profile = "default";  // AWS_PROFILE
  std::map<std::string, std::string>
      endpoint_urls;             // service id -> URL from AWS_ENDPOINT_URL_<SERVICE>
  std::string endpoint_url_all;  // AWS_ENDPOINT_URL
  bool ignore_configured_endpoint_urls = false;  // AWS_IGNORE_CONFIGURED_ENDPOINT_URLS
  int max_attempts = 3;                          // AWS_MAX_ATTEMPTS

  // Environment credentials.
  std::string access_key_id;      // AWS_ACCESS_KEY_ID
  std::string secret_access_key;  // AWS_SECRET_ACCESS_KEY
  std::string session_token;      // AWS_SESSION_TOKEN
  // Shared files; empty = ~/.aws/credentials and ~/.aws/config.
  std::string shared_credentials_file;  // AWS_SHARED_CREDENTIALS_FILE
  std::string config_file;              // AWS_CONFIG_FILE
  std::string home;                     // HOME, to find ~/.aws
  // Web identity (IRSA, GitHub OIDC ...).
  std::string web_identity_token_file;  // AWS_WEB_IDENTITY_TOKEN_FILE
  std::string role_arn;                 // AWS_ROLE_ARN
  std::string role_session_name;        // AWS_ROLE_SESSION_NAME
  // ECS / EKS container credentials.
  std::string container_relative_uri;              // AWS_CONTAINER_CREDENTIALS_RELATIVE_URI
  std::string container_full_uri;                  // AWS_CONTAINER_CREDENTIALS_FULL_URI
  std::string container_authorization_token;       // AWS_CONTAINER_AUTHORIZATION_TOKEN
  std::string container_authorization_token_file;  // AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE
  std::string container_host = "169.254.170.2";    // where RELATIVE_URI points (tests change it)
  // EC2 instance metadata (IMDSv2).
  bool ec2_metadata_disabled = false;     // AWS_EC2_METADATA_DISABLED
  bool ec2_metadata_v1_disabled = false;  // AWS_EC2_METADATA_V1_DISABLED
  std::string ec2_metadata_endpoint =
      "http://169.254.169.254";                       // AWS_EC2_METADATA_SERVICE_ENDPOINT
  std::chrono::milliseconds metadata_timeout{1'000};  // AWS_METADATA_SERVICE_TIMEOUT (seconds)
  // Timeouts of AWS calls.
  std::chrono::milliseconds connect_timeout{3'000};   // AWS_CONNECT_TIMEOUT
  std::chrono::milliseconds request_timeout{30'000};  // AWS_REQUEST_TIMEOUT
};

// Reads every setting above. Throws ConfigError naming the setting when one is malformed.
AwsSettings read_aws_settings(const ConfigSource& source);

// The URL for a service: AWS_ENDPOINT_URL_<SERVICE>, else AWS_ENDPOINT_URL, else
// https://<host>.<region>.amazonaws.com (amazonaws.com.cn in China regions). service_id is the
// SDK's service id in lower case with dashes: "bedrock-runtime", "dynamodb", "secrets-manager",
// "sts". Throws ConfigError("AWS_REGION", ...) when no region is known and no override applies.
std::string resolve_endpoint(const AwsSettings& settings, const std::string& service_id);

// The environment variable that overrides a service's endpoint: "bedrock-runtime" ->
// AWS_ENDPOINT_URL_BEDROCK_RUNTIME.
std::string endpoint_variable(const std::string& service_id);

}  // namespace shared::aws
