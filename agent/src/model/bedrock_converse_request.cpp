#include "model/bedrock_converse_request.h"

#include "shared/http_client.h"

namespace agent::model {

std::string converse_path(const std::string& model_id, bool stream) {
  return "/model/" + shared::http::url_encode(model_id) +
         (stream ? "/converse-stream" : "/converse");
}

namespace {

nlohmann::json content_block_json(const ContentBlock& block) {
  switch (block.kind) {
    case ContentBlock::Kind::kText:
      return {{"text", block.text}};
    case ContentBlock::Kind::kToolUse:
      return {{"toolUse",
               {{"toolUseId", block.tool_use_id},
                {"name", block.tool_name},
                {"input",
                 block.tool_input.is_object() ? block.tool_input : nlohmann::json::object()}}}};
    case ContentBlock::Kind::kToolResult:
      return {{"toolResult",
               {{"toolUseId", block.tool_use_id},
                {"content",
                 nlohmann::json::array(
                     {{{"text", block.tool_output.empty() ? "(no output)" : block.tool_output}}})},
                {"status", block.tool_is_error ? "error" : "success"}}}};
    case ContentBlock::Kind::kReasoning:
      // Sent back exactly as the model gave it: Bedrock checks the signature (or decrypts the
      // redacted content) and refuses altered reasoning.
      if (!block.redacted_reasoning.empty())
        return {{"reasoningContent", {{"redactedContent", block.redacted_reasoning}}}};
      return {
          {"reasoningContent",
           {{"reasoningText", {{"text", block.text}, {"signature", block.reasoning_signature}}}}}};
  }
  return nullptr;
}

}  // namespace

nlohmann::json build_converse_body(const ModelRequest& request) {
  nlohmann::json body;
  nlohmann::json messages = nlohmann::json::array();
  for (const auto& message : request.messages) {
    nlohmann::json content = nlohmann::json::array();
    for (const auto& block : message.content) {
      // Bedrock rejects blank text blocks, and reasoning without the model's signature (or its
      // redacted form) cannot be sent back: both are left out. Reasoning blocks that have one
      // are kept in place, before the toolUse they led to, as extended thinking with tool use
      // requires.
      if (block.kind == ContentBlock::Kind::kReasoning && block.reasoning_signature.empty() &&
          block.redacted_reasoning.empty())
        continue;
      if (block.kind == ContentBlock::Kind::kText &&
          block.text.find_first_not_of(" \t\r\n") == std::string::npos)
        continue;
      content.push_back(content_block_json(block));
    }
    if (content.empty()) continue;
    // Converse wants alternating roles; consecutive messages of one role are merged.
    if (!messages.empty() && messages.back()["role"] == message.role) {
      for (auto& c : content) messages.back()["content"].push_back(std::move(c));
    } else {
      messages.push_back({{"role", message.role}, {"content", std::move(content)}});
    }
  }
  body["messages"] = std::move(messages);
  if (!request.system_prompt.empty())
    body["system"] = nlohmann::json::array({{{"text", request.system_prompt}}});
  nlohmann::json inference = {{"maxTokens", request.max_tokens}};
  if (request.temperature) inference["temperature"] = *request.temperature;
  body["inferenceConfig"] = std::move(inference);
  if (!request.tools.empty()) {
    nlohmann::json tools = nlohmann::json::array();
    for (const auto& tool : request.tools) {
      nlohmann::json schema =
          tool.input_schema.is_object()
              ? tool.input_schema
              : nlohmann::json{{"type", "object"}, {"properties", nlohmann::json::object()}};
      tools.push_back({{"toolSpec",
                        {{"name", tool.name},
                         {"description", tool.description.empty() ? tool.name : tool.description},
                         {"inputSchema", {{"json", std::move(schema)}}}}}});
    }
    body["toolConfig"] = {{"tools", std::move(tools)}};
  }
  return body;
}

}  // namespace agent::model
