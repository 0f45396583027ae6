// A client of the AWS JSON 1.0/1.1 protocol (DynamoDB, Secrets Manager, ...): POST / with
// X-Amz-Target and Content-Type application/x-amz-json-1.x, signed with SigV4, retried in the
// SDKs' standard mode, with the SDKs' clock-skew correction (clock_skew.h). Thread-safe.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "shared/aws/clock_skew.h"
#include "shared/aws/credentials.h"
#include "shared/aws/errors.h"
#include "shared/aws/retry_strategy.h"
#include "shared/aws/settings.h"
#include "shared/http_client.h"

namespace shared::aws {

class AwsJsonClient {
 public:
  // service_id picks the endpoint ("dynamodb", "secrets-manager"); signing_name is SigV4's
  // service ("dynamodb", "secretsmanager"); json_version is "1.0" or "1.1". `retry` may be shared
  // by clients of one service; null makes one from settings.max_attempts.
  AwsJsonClient(AwsSettings settings, std::string service_id, std::string signing_name,
                std::string json_version, std::shared_ptr<CredentialsProvider> credentials,
                http::HttpClient& http, std::shared_ptr<RetryStrategy> retry = nullptr);

  // e.g. call("DynamoDB_20120810.PutItem", body). Returns the parsed JSON response or throws
  // AwsError (after retries for retryable errors) or http::TransportError.
  nlohmann::json call(const std::string& target, const nlohmann::json& body);

  const std::string& endpoint() const { return endpoint_; }
  // What the client learned of the service's clock (offset 0 until a skew error corrected it).
  const ClockSkew& clock() const { return *clock_; }

 private:
  nlohmann::json attempt(const std::string& target, const std::string& payload);

  AwsSettings settings_;
  std::string service_id_;
  std::string signing_name_;
  std::string content_type_;
  std::shared_ptr<CredentialsProvider> credentials_;
  http::HttpClient& http_;
  std::shared_ptr<RetryStrategy> retry_;
  std::string endpoint_;
  std::shared_ptr<ClockSkew> clock_ = std::make_shared<ClockSkew>();
};

// Splits an endpoint URL into what signing needs: "https://host:8443/base" -> host header
// "host:8443" (default ports dropped) and base path "/base" ("" when none).
struct EndpointParts {
  std::string scheme;
  std::string host_header;
  std::string base_path;
};
EndpointParts split_endpoint(const std::string& url);

}  // namespace shared::aws
