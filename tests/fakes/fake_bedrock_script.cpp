// What the fake Bedrock says: scripted or default responses turned into event-stream frames or a
// Converse JSON answer.
#include <time.h>

#include <algorithm>
#include <cctype>

#include "fake_bedrock.h"
#include "shared/aws/event_stream.h"

namespace fakes {
namespace {

using shared::aws::EventStreamHeader;
using shared::aws::EventStreamMessage;

std::string event_frame(const std::string& type, nlohmann::json payload) {
  // Bedrock pads payloads with a "p" field of varying length; clients must ignore it.
  payload["p"] = std::string(type.size() % 7, 'x');
  EventStreamMessage m;
  m.headers = {EventStreamHeader::string(":event-type", type),
               EventStreamHeader::string(":content-type", "application/json"),
               EventStreamHeader::string(":message-type", "event")};
  m.payload = payload.dump();
  return shared::aws::encode_event_stream_message(m);
}

std::string exception_frame(const std::string& type, const std::string& message) {
  EventStreamMessage m;
  m.headers = {EventStreamHeader::string(":exception-type", type),
               EventStreamHeader::string(":content-type", "application/json"),
               EventStreamHeader::string(":message-type", "exception")};
  m.payload = nlohmann::json{{"message", message}}.dump();
  return shared::aws::encode_event_stream_message(m);
}

// Text goes out a few characters per delta, as models stream it.
std::vector<std::string> text_pieces(const std::string& text) {
  std::vector<std::string> pieces;
  size_t i = 0;
  while (i < text.size()) {
    size_t end = std::min(text.size(), i + 8);
    // Never cut a UTF-8 sequence.
    while (end < text.size() && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) ++end;
    pieces.push_back(text.substr(i, end - i));
    i = end;
  }
  return pieces;
}

std::string kind_of(const nlohmann::json& r) { return r.value("kind", std::string("text")); }

void add_text_block(std::vector<std::string>& frames, int index, const std::string& text) {
  for (const auto& piece : text_pieces(text))
    frames.push_back(event_frame("contentBlockDelta",
                                 {{"contentBlockIndex", index}, {"delta", {{"text", piece}}}}));
}

nlohmann::json usage_of(const nlohmann::json& r) {
  nlohmann::json usage = r.value("usage", nlohmann::json{{"inputTokens", 12}, {"outputTokens", 7}});
  usage["totalTokens"] = usage.value("inputTokens", 0) + usage.value("outputTokens", 0);
  return usage;
}

std::string last_user_text(const nlohmann::json& body, bool& has_tool_result,
                           std::string& tool_output) {
  has_tool_result = false;
  if (!body.contains("messages") || !body["messages"].is_array() || body["messages"].empty())
    return "";
  const auto& last = body["messages"].back();
  std::string text;
  if (last.value("role", "") != "user" || !last.contains("content") || !last["content"].is_array())
    return "";
  for (const auto& block : last["content"]) {
    if (block.contains("text") && block["text"].is_string())
      text += block["text"].get<std::string>();
    if (block.contains("toolResult")) {
      has_tool_result = true;
      const auto& content = block["toolResult"].value("content", nlohmann::json::array());
      for (const auto& c : content)
        if (c.contains("text") && c["text"].is_string())
          tool_output += c["text"].get<std::string>();
    }
  }
  return text;
}

}  // namespace

nlohmann::json default_response(const nlohmann::json& request_body, int tool_number) {
  bool has_tool_result = false;
  std::string tool_output;
  const std::string text = last_user_text(request_body, has_tool_result, tool_output);
  if (has_tool_result) return {{"kind", "text"}, {"text", "The tool returned: " + tool_output}};
  std::string lower = text;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  if (lower.find("time") != std::string::npos)
    return {{"kind", "tool_use"},
            {"name", "current_time"},
            {"input", nlohmann::json::object()},
            {"tool_use_id", "tooluse_fake_" + std::to_string(tool_number)},
            {"text", "Let me check the time."}};
  return {{"kind", "text"},
          {"text", "Hello from the fake Bedrock model. You said: " +
                       (text.empty() ? std::string("nothing") : text)}};
}

StreamPlan plan_stream(const nlohmann::json& r) {
  StreamPlan plan;
  const std::string kind = kind_of(r);
  plan.frames.push_back(event_frame("messageStart", {{"role", "assistant"}}));
  int index = 0;
  if (r.contains("reasoning")) {
    plan.frames.push_back(event_frame(
        "contentBlockDelta", {{"contentBlockIndex", index},
                              {"delta", {{"reasoningContent", {{"text", r["reasoning"]}}}}}}));
    plan.frames.push_back(
        event_frame("contentBlockDelta",
                    {{"contentBlockIndex", index},
                     {"delta", {{"reasoningContent", {{"signature", "fake-signature"}}}}}}));
    plan.frames.push_back(event_frame("contentBlockStop", {{"contentBlockIndex", index}}));
    ++index;
  }
  if (kind == "clock") {
    // The deltas themselves are made as they are written (see clock_delta_frame).
    plan.clock_tokens = std::max(0, r.value("tokens", 100));
    plan.clock_at = plan.frames.size();
    plan.clock_block = index;
    plan.frames.push_back(event_frame("contentBlockStop", {{"contentBlockIndex", index}}));
    ++index;
  }
  const std::string text = kind == "clock" ? std::string() : r.value("text", std::string());
  if (!text.empty()) {
    add_text_block(plan.frames, index, text);
    if (kind == "exception_mid_stream") {
      plan.frames.push_back(
          exception_frame(r.value("exception", std::string("modelStreamErrorException")),
                          r.value("message", std::string("The model stream failed."))));
      return plan;
    }
    if (kind == "cut_mid_stream") {
      // Half of a frame, then the connection closes.
      std::string next = event_frame("contentBlockDelta",
                                     {{"contentBlockIndex", index}, {"delta", {{"text", "lost"}}}});
      plan.frames.push_back(next.substr(0, next.size() / 2));
      plan.end = StreamPlan::End::kCut;
      return plan;
    }
    if (kind == "stall") {
      plan.end = StreamPlan::End::kStall;
      plan.stall_ms = r.value("stall_ms", 60'000);
      return plan;
    }
    plan.frames.push_back(event_frame("contentBlockStop", {{"contentBlockIndex", index}}));
    ++index;
  }
  std::string stop_reason = r.value("stop_reason", std::string("end_turn"));
  if (kind == "tool_use") {
    const std::string id = r.value("tool_use_id", std::string("tooluse_1"));
    plan.frames.push_back(event_frame(
        "contentBlockStart",
        {{"contentBlockIndex", index},
         {"start",
          {{"toolUse",
            {{"toolUseId", id}, {"name", r.value("name", std::string("current_time"))}}}}}}));
    const std::string input = r.value("input", nlohmann::json::object()).dump();
    // Partial JSON in three pieces, as Bedrock streams tool input.
    const size_t third = std::max<size_t>(1, input.size() / 3);
    for (size_t i = 0; i < input.size(); i += third)
      plan.frames.push_back(event_frame(
          "contentBlockDelta", {{"contentBlockIndex", index},
                                {"delta", {{"toolUse", {{"input", input.substr(i, third)}}}}}}));
    plan.frames.push_back(event_frame("contentBlockStop", {{"contentBlockIndex", index}}));
    if (!r.contains("stop_reason")) stop_reason = "tool_use";
  }
  plan.frames.push_back(event_frame("messageStop", {{"stopReason", stop_reason}}));
  plan.frames.push_back(
      event_frame("metadata", {{"usage", usage_of(r)}, {"metrics", {{"latencyMs", 42}}}}));
  return plan;
}

nlohmann::json converse_answer(const nlohmann::json& r) {
  nlohmann::json content = nlohmann::json::array();
  if (r.contains("reasoning"))
    content.push_back({{"reasoningContent",
                        {{"reasoningText", {{"text", r["reasoning"]}, {"signature", "fake"}}}}}});
  std::string text = r.value("text", std::string());
  if (kind_of(r) == "clock") {
    text.clear();
    const std::int64_t now = monotonic_now_ns();
    for (int i = 0; i < r.value("tokens", 100); ++i) text += clock_stamp_text(now);
  }
  if (!text.empty()) content.push_back({{"text", text}});
  std::string stop_reason = r.value("stop_reason", std::string("end_turn"));
  if (kind_of(r) == "tool_use") {
    content.push_back({{"toolUse",
                        {{"toolUseId", r.value("tool_use_id", std::string("tooluse_1"))},
                         {"name", r.value("name", std::string("current_time"))},
                         {"input", r.value("input", nlohmann::json::object())}}}});
    if (!r.contains("stop_reason")) stop_reason = "tool_use";
  }
  return {{"output", {{"message", {{"role", "assistant"}, {"content", content}}}}},
          {"stopReason", stop_reason},
          {"usage", usage_of(r)},
          {"metrics", {{"latencyMs", 42}}},
          {"additionalModelResponseFields", nlohmann::json::object()}};
}

std::string clock_stamp_text(std::int64_t monotonic_ns) {
  return "<t" + std::to_string(monotonic_ns) + "> ";
}

std::string clock_delta_frame(int content_block_index, std::int64_t monotonic_ns) {
  return event_frame("contentBlockDelta", {{"contentBlockIndex", content_block_index},
                                           {"delta", {{"text", clock_stamp_text(monotonic_ns)}}}});
}

std::int64_t monotonic_now_ns() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<std::int64_t>(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
}

std::vector<std::string> split_writes(const std::string& bytes, const std::string& chunking) {
  std::vector<std::string> writes;
  size_t size = bytes.size();
  if (chunking == "byte") {
    size = 1;
  } else if (!chunking.empty() && std::all_of(chunking.begin(), chunking.end(), ::isdigit)) {
    size = std::max<size_t>(1, std::stoul(chunking));
  }
  for (size_t i = 0; i < bytes.size(); i += size) writes.push_back(bytes.substr(i, size));
  return writes;
}

}  // namespace fakes
