// AWS credentials and the providers that find them, in the order the AWS SDKs use: environment,
// shared credentials/config files (AWS_PROFILE), web identity token through STS, the ECS/EKS
// container endpoint, EC2 instance metadata (IMDSv2). The chain caches what it found and
// refreshes before the credentials expire.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "shared/aws/errors.h"
#include "shared/aws/retry_strategy.h"
#include "shared/aws/settings.h"
#include "shared/http_client.h"

namespace shared::aws {

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;
  std::optional<std::chrono::system_clock::time_point> expiration;
};

class CredentialsProvider {
 public:
  virtual ~CredentialsProvider() = default;
  // Throws CredentialsError naming the providers tried.
  virtual Credentials get() = 0;
};

// One link of the chain. find() returns nullopt when the provider is not configured here (its
// variables or files are absent), with why in `skipped`; it throws CredentialsError when it is
// configured but fails.
class CredentialsSource {
 public:
  virtual ~CredentialsSource() = default;
  virtual std::string name() const = 0;
  virtual std::optional<Credentials> find(std::string& skipped) = 0;
};

std::unique_ptr<CredentialsSource> make_environment_source(const AwsSettings& settings);
std::unique_ptr<CredentialsSource> make_profile_source(const AwsSettings& settings);
// The STS call is retried in the standard mode, and also on IDPCommunicationError (the identity
// provider did not answer STS in time), as the SDKs' STS clients do; `retry` null makes one from
// settings.max_attempts.
std::unique_ptr<CredentialsSource> make_web_identity_source(
    const AwsSettings& settings, http::HttpClient& client,
    std::shared_ptr<RetryStrategy> retry = nullptr);
// RELATIVE_URI goes to container_host; FULL_URI must pass container_full_uri_allowed. The token
// (AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE, re-read on every fetch, else _TOKEN) is sent as
// Authorization and refused if it holds CR or LF (header injection).
std::unique_ptr<CredentialsSource> make_container_source(const AwsSettings& settings,
                                                         http::HttpClient& client);
// https anywhere; http only to loopback (127.0.0.0/8, ::1, localhost) or the ECS/EKS agents
// (169.254.170.2, 169.254.170.23, fd00:ec2::23), as the SDKs allow.
bool container_full_uri_allowed(const std::string& url);
// IMDSv2 first; a token request refused with 403, 404 or 405 (IMDSv2 not offered, e.g. behind a
// proxy) falls back to IMDSv1 requests without a token unless AWS_EC2_METADATA_V1_DISABLED, as the
// SDKs do. Any other failure of the token request is an error.
std::unique_ptr<CredentialsSource> make_imds_source(const AwsSettings& settings,
                                                    http::HttpClient& client);

// Tries sources in order, keeps the first that answers, caches its credentials and asks again
// `refresh_before` ahead of their expiration. If a refresh fails while the cached credentials are
// still valid, the cached ones are used.
class CredentialsChain : public CredentialsProvider {
 public:
  using Clock = std::function<std::chrono::system_clock::time_point()>;
  explicit CredentialsChain(std::vector<std::unique_ptr<CredentialsSource>> sources,
                            std::chrono::seconds refresh_before = std::chrono::minutes(5),
                            Clock clock = nullptr);
  Credentials get() override;
  // The source that answered last ("" before the first success); logs and tests use it.
  std::string active_source() const;

 private:
  Credentials fetch_locked();

  std::vector<std::unique_ptr<CredentialsSource>> sources_;
  std::chrono::seconds refresh_before_;
  Clock clock_;
  mutable std::mutex mutex_;
  std::optional<Credentials> cached_;
  std::string active_;
};

std::shared_ptr<CredentialsProvider> make_default_credentials_chain(const AwsSettings& settings,
                                                                    http::HttpClient& client);
std::shared_ptr<CredentialsProvider> make_static_credentials(Credentials credentials);

// Parses an ISO-8601 UTC time as the credential endpoints give it ("2024-01-02T03:04:05Z", with
// optional fractional seconds). Returns nullopt when malformed.
std::optional<std::chrono::system_clock::time_point> parse_iso8601(const std::string& text);

}  // namespace shared::aws
