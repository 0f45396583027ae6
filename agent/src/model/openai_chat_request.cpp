#include "model/openai_chat_request.h"

namespace agent::model {
namespace {

using nlohmann::json;

// Blocks' texts joined as one string: plain-string content is what every server accepts (content
// part arrays are not understood by all of them).
std::string joined_text(const Message& message) {
  std::string text;
  for (const auto& block : message.content) {
    if (block.kind != ContentBlock::Kind::kText || block.text.empty()) continue;
    if (!text.empty()) text += "\n\n";
    text += block.text;
  }
  return text;
}

void add_user(json& messages, const Message& message) {
  // Tool results answer the assistant message just before, so they come first; the API wants
  // one `tool` message per call, right after the assistant's tool_calls.
  for (const auto& block : message.content) {
    if (block.kind != ContentBlock::Kind::kToolResult) continue;
    // The API has no error flag for a tool result; saying so in the text lets the model react.
    messages.push_back(
        {{"role", "tool"},
         {"tool_call_id", block.tool_use_id},
         {"content", block.tool_is_error ? "Error: " + block.tool_output : block.tool_output}});
  }
  const std::string text = joined_text(message);
  if (!text.empty()) messages.push_back({{"role", "user"}, {"content", text}});
}

void add_assistant(json& messages, const Message& message) {
  json calls = json::array();
  for (const auto& block : message.content) {
    if (block.kind != ContentBlock::Kind::kToolUse) continue;
    const json input = block.tool_input.is_object() ? block.tool_input : json::object();
    calls.push_back({{"id", block.tool_use_id},
                     {"type", "function"},
                     {"function", {{"name", block.tool_name}, {"arguments", input.dump()}}}});
  }
  const std::string text = joined_text(message);
  // Reasoning is not sent back: the servers that stream it ask clients not to return it.
  if (text.empty() && calls.empty()) return;  // an empty assistant message is refused
  json m = {{"role", "assistant"}, {"content", text.empty() ? json(nullptr) : json(text)}};
  if (!calls.empty()) m["tool_calls"] = std::move(calls);
  messages.push_back(std::move(m));
}

}  // namespace

nlohmann::json build_chat_body(const ModelRequest& request, const ChatRequestOptions& options) {
  json messages = json::array();
  if (!request.system_prompt.empty())
    messages.push_back({{"role", "system"}, {"content", request.system_prompt}});
  for (const auto& message : request.messages) {
    if (message.role == "assistant") {
      add_assistant(messages, message);
    } else {
      add_user(messages, message);
    }
  }
  json body = {
      {"model", options.model}, {"messages", std::move(messages)}, {"stream", options.stream}};
  if (options.stream) body["stream_options"] = {{"include_usage", true}};
  if (request.max_tokens > 0) body[options.max_tokens_field] = request.max_tokens;
  if (request.temperature) body["temperature"] = *request.temperature;
  if (!request.tools.empty()) {
    // An empty `tools` array is refused by OpenAI, so the key is left out instead.
    json tools = json::array();
    for (const auto& tool : request.tools) {
      const json parameters = tool.input_schema.is_object()
                                  ? tool.input_schema
                                  : json{{"type", "object"}, {"properties", json::object()}};
      tools.push_back(
          {{"type", "function"},
           {"function",
            {{"name", tool.name}, {"description", tool.description}, {"parameters", parameters}}}});
    }
    body["tools"] = std::move(tools);
  }
  return body;
}

}  // namespace agent::model
