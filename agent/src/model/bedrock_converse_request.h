// Builds the Bedrock Runtime Converse / ConverseStream request: the path with the model id
// encoded for the wire, and the JSON body (system prompt, messages, inference config, toolConfig).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "model/model_provider.h"

namespace agent::model {

// "/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse-stream": the model id (or an
// inference-profile ARN) is one path segment, so ':' and '/' are percent-encoded.
std::string converse_path(const std::string& model_id, bool stream);

nlohmann::json build_converse_body(const ModelRequest& request);

}  // namespace agent::model
