// The `openai` model provider: any server with the OpenAI chat completions API (OpenAI itself,
// Ollama, vLLM, llama.cpp's server, LM Studio ...). POST {OPENAI_BASE_URL}/chat/completions
// over libcurl, streamed as server-sent events (or one JSON answer with OPENAI_STREAMING=false),
// optionally with a bearer API key, retried in the standard mode (backoff, jitter, a retry
// quota, and the server's Retry-After) while nothing has been streamed yet. The exchange runs on
// a worker thread so that cancel and the stall timeout act at once.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "model/model_provider.h"
#include "shared/aws/retry_strategy.h"
#include "shared/config.h"

namespace agent::model {

struct OpenAiSettings {
  std::string base_url;   // OPENAI_BASE_URL (required), e.g. http://127.0.0.1:11434/v1
  std::string model;      // OPENAI_MODEL (required)
  std::string api_key;    // OPENAI_API_KEY: sent as Authorization: Bearer; empty = none
  bool streaming = true;  // OPENAI_STREAMING: server-sent events (true) or one JSON answer
  std::string max_tokens_field = "max_tokens";       // OPENAI_MAX_TOKENS_FIELD
  std::chrono::milliseconds connect_timeout{5'000};  // OPENAI_CONNECT_TIMEOUT
  std::chrono::milliseconds request_timeout{
      600'000};                                      // OPENAI_REQUEST_TIMEOUT: one attempt at most
  std::chrono::milliseconds stall_timeout{120'000};  // OPENAI_STALL_TIMEOUT: a silent stream fails
  int max_attempts = 3;                              // OPENAI_MAX_ATTEMPTS
  std::size_t max_event_bytes = 1024 * 1024;  // OPENAI_MAX_EVENT_BYTES: one event / one answer
  std::size_t event_queue = 1024;             // OPENAI_EVENT_QUEUE: events buffered for the turn
};

// Reads the settings above. Throws ConfigError naming the setting.
OpenAiSettings read_openai_settings(const shared::ConfigSource& source);

// retry null: standard mode with OPENAI_MAX_ATTEMPTS attempts.
std::unique_ptr<ModelProvider> make_openai_provider(
    const OpenAiSettings& settings, std::shared_ptr<shared::aws::RetryStrategy> retry = nullptr);

}  // namespace agent::model
