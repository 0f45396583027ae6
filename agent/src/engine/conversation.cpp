#include "engine/conversation.h"

namespace agent::engine {
namespace {

using model::ContentBlock;
using model::Message;

void push(std::vector<Message>& out, Message message) {
  if (message.content.empty()) return;
  // Models want strict alternation: merge a message into the previous one of the same role.
  if (!out.empty() && out.back().role == message.role) {
    for (auto& block : message.content) out.back().content.push_back(std::move(block));
    return;
  }
  out.push_back(std::move(message));
}

ContentBlock text_block(const std::string& text) {
  ContentBlock b;
  b.kind = ContentBlock::Kind::kText;
  b.text = text;
  return b;
}

}  // namespace

std::string message_text(const nlohmann::json& content) {
  std::string text;
  if (!content.is_array()) return text;
  for (const auto& block : content)
    if (block.value("type", "") == "text") {
      // Text on either side of a tool call reads as separate paragraphs.
      if (!text.empty()) text += "\n\n";
      text += block.value("text", "");
    }
  return text;
}

std::vector<Message> to_model_messages(const std::vector<store::StoredMessage>& history) {
  std::vector<Message> out;
  for (const auto& stored : history) {
    if (!stored.content.is_array()) continue;
    if (stored.role == "user") {
      Message m{"user", {}};
      const std::string text = message_text(stored.content);
      if (!text.empty()) m.content.push_back(text_block(text));
      push(out, std::move(m));
      continue;
    }
    if (stored.role != "assistant") continue;
    Message assistant{"assistant", {}};
    Message results{"user", {}};
    for (const auto& block : stored.content) {
      const std::string type = block.value("type", "");
      if (type == "text") {
        const std::string text = block.value("text", "");
        if (text.empty()) continue;
        if (!results.content.empty()) {
          push(out, std::move(assistant));
          push(out, std::move(results));
          assistant = Message{"assistant", {}};
          results = Message{"user", {}};
        }
        assistant.content.push_back(text_block(text));
      } else if (type == "tool_call") {
        ContentBlock use;
        use.kind = ContentBlock::Kind::kToolUse;
        use.tool_use_id = block.value("call_id", "");
        use.tool_name = block.value("name", "");
        use.tool_input = block.contains("input") && block["input"].is_object()
                             ? block["input"]
                             : nlohmann::json::object();
        ContentBlock result;
        result.kind = ContentBlock::Kind::kToolResult;
        result.tool_use_id = use.tool_use_id;
        if (block.contains("output") && block["output"].is_string()) {
          result.tool_output = block["output"].get<std::string>();
          result.tool_is_error = block.value("is_error", false);
        } else {
          result.tool_output = "the tool did not return (the turn was stopped)";
          result.tool_is_error = true;
        }
        assistant.content.push_back(std::move(use));
        results.content.push_back(std::move(result));
      }
    }
    push(out, std::move(assistant));
    push(out, std::move(results));
  }
  // A conversation starts with the user.
  while (!out.empty() && out.front().role != "user") out.erase(out.begin());
  return out;
}

}  // namespace agent::engine
