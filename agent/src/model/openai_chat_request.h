// Builds the body of POST {base}/chat/completions, the OpenAI chat completions request that
// OpenAI, Ollama, vLLM and llama.cpp's server all accept: the system prompt as a `system`
// message, user text, assistant text with `tool_calls`, each tool result as its own `tool`
// message, the tools as functions with their JSON Schema, and the stream options.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "model/model_provider.h"

namespace agent::model {

struct ChatRequestOptions {
  std::string model;
  bool stream = true;
  // max_tokens is what every compatible server reads; OpenAI's reasoning models refuse it and
  // want max_completion_tokens (which Ollama ignores), so it is a setting.
  std::string max_tokens_field = "max_tokens";
};

nlohmann::json build_chat_body(const ModelRequest& request, const ChatRequestOptions& options);

}  // namespace agent::model
