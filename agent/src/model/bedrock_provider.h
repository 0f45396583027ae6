// The Bedrock Runtime model provider, without an SDK: Converse / ConverseStream over libcurl,
// SigV4-signed (signing name "bedrock"), event-stream decoded, retried in the SDKs' standard mode
// while nothing has been streamed yet. The HTTP exchange runs on a worker thread so that
// cancellation is prompt even while the model is silent; events are handed to the caller's thread
// through a bounded queue.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "model/model_provider.h"
#include "shared/aws/credentials.h"
#include "shared/aws/retry_strategy.h"
#include "shared/aws/settings.h"
#include "shared/config.h"
#include "shared/http_client.h"

namespace agent::model {

struct BedrockSettings {
  std::string model_id;   // BEDROCK_MODEL_ID (model id or inference-profile ARN)
  bool streaming = true;  // BEDROCK_STREAMING: ConverseStream (true) or Converse
  std::chrono::milliseconds stall_timeout{
      60'000};  // BEDROCK_STALL_TIMEOUT: no byte for this long ends the call
  std::size_t max_event_bytes =
      1024 * 1024;                 // BEDROCK_MAX_EVENT_BYTES: one event-stream message at most
  std::size_t event_queue = 1024;  // BEDROCK_EVENT_QUEUE: events buffered for the caller's thread
  shared::aws::AwsSettings aws;    // AWS_REGION, AWS_ENDPOINT_URL_BEDROCK_RUNTIME, credentials ...
};

// Reads the settings above plus the AWS settings. Throws ConfigError naming the setting.
BedrockSettings read_bedrock_settings(const shared::ConfigSource& source);

// credentials null: the default chain (environment, profile, web identity, container, IMDS).
// retry null: standard mode with AWS_MAX_ATTEMPTS attempts.
std::unique_ptr<ModelProvider> make_bedrock_provider(
    const BedrockSettings& settings,
    std::shared_ptr<shared::aws::CredentialsProvider> credentials = nullptr,
    std::shared_ptr<shared::aws::RetryStrategy> retry = nullptr);

}  // namespace agent::model
