#include "model/bedrock_stream_translator.h"

#include <nlohmann/json.hpp>

namespace agent::model {
namespace {

std::string lower_first(std::string s) {
  if (!s.empty()) s[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(s[0])));
  return s;
}

const nlohmann::json* child(const nlohmann::json& j, const char* key) {
  if (!j.is_object()) return nullptr;
  auto it = j.find(key);
  return it == j.end() ? nullptr : &*it;
}

std::string string_at(const nlohmann::json& j, const char* key) {
  const nlohmann::json* c = child(j, key);
  return c && c->is_string() ? c->get<std::string>() : std::string();
}

int int_at(const nlohmann::json& j, const char* key) {
  const nlohmann::json* c = child(j, key);
  return c && c->is_number_integer() ? c->get<int>() : 0;
}

ModelEvent usage_event(const nlohmann::json& usage, const nlohmann::json* metrics) {
  ModelEvent e;
  e.kind = ModelEvent::Kind::kUsage;
  e.input_tokens = int_at(usage, "inputTokens");
  e.output_tokens = int_at(usage, "outputTokens");
  if (metrics) e.latency_ms = int_at(*metrics, "latencyMs");
  return e;
}

}  // namespace

ModelError bedrock_error(const std::string& error_type, const std::string& message, int status) {
  // In-stream exceptions are lowerCamel ("throttlingException"); HTTP errors are UpperCamel.
  const std::string t = lower_first(error_type);
  const std::string text = "bedrock " +
                           (error_type.empty() ? "HTTP " + std::to_string(status) : error_type) +
                           (message.empty() ? "" : ": " + message);
  if (t == "throttlingException" || t == "tooManyRequestsException" || status == 429)
    return ModelError("throttled", text, true);
  if (t == "serviceUnavailableException" || t == "internalServerException" ||
      t == "modelNotReadyException" || status == 503 || status == 500 || status == 502 ||
      status == 504)
    return ModelError("unavailable", text, true);
  if (t == "modelTimeoutException" || status == 408) return ModelError("timeout", text, true);
  if (t == "validationException" || t == "resourceNotFoundException" || status == 400 ||
      status == 404)
    return ModelError("validation", text, false);
  if (t == "accessDeniedException" || t == "unrecognizedClientException" ||
      t == "invalidSignatureException" || t == "expiredTokenException" || status == 401 ||
      status == 403)
    return ModelError("unauthorized", text, false);
  if (t == "modelStreamErrorException" || t == "modelErrorException")
    return ModelError("model_error", text, false);
  return ModelError("model_error", text, false);
}

void ConverseStreamTranslator::emit(const ModelEvent& e) {
  emitted_ = true;
  emit_(e);
}

void ConverseStreamTranslator::on_message(const shared::aws::StreamEvent& event) {
  using Kind = shared::aws::StreamEvent::Kind;
  if (event.kind == Kind::kException) throw bedrock_error(event.type, event.message);
  if (event.kind == Kind::kError)
    throw bedrock_error(event.type.empty() ? "modelStreamErrorException" : event.type,
                        event.message);
  if (event.kind != Kind::kEvent) return;

  const nlohmann::json p = nlohmann::json::parse(event.payload, nullptr, false);
  if (!p.is_object())
    throw ModelError("model_error", "bedrock sent a malformed " + event.type + " event");
  const int index = int_at(p, "contentBlockIndex");

  if (event.type == "contentBlockStart") {
    const nlohmann::json* start = child(p, "start");
    const nlohmann::json* tool = start ? child(*start, "toolUse") : nullptr;
    if (tool) {
      ToolBlock block{string_at(*tool, "toolUseId"), ""};
      tool_blocks_[index] = block;
      ModelEvent e;
      e.kind = ModelEvent::Kind::kToolUseStart;
      e.tool_use_id = block.id;
      e.tool_name = string_at(*tool, "name");
      emit(e);
    }
  } else if (event.type == "contentBlockDelta") {
    const nlohmann::json* delta = child(p, "delta");
    if (!delta) return;
    if (const nlohmann::json* text = child(*delta, "text"); text && text->is_string()) {
      ModelEvent e;
      e.kind = ModelEvent::Kind::kTextDelta;
      e.text = text->get<std::string>();
      if (!e.text.empty()) emit(e);
    } else if (const nlohmann::json* tool = child(*delta, "toolUse")) {
      auto it = tool_blocks_.find(index);
      if (it == tool_blocks_.end())
        throw ModelError("model_error", "bedrock sent tool input for block " +
                                            std::to_string(index) + " before its start");
      ModelEvent e;
      e.kind = ModelEvent::Kind::kToolUseInputDelta;
      e.tool_use_id = it->second.id;
      e.text = string_at(*tool, "input");
      it->second.input_json += e.text;
      emit(e);
    } else if (const nlohmann::json* reasoning = child(*delta, "reasoningContent")) {
      // A union: a piece of text, the block's signature (after its text), or redacted content.
      ModelEvent e;
      e.kind = ModelEvent::Kind::kReasoningDelta;
      e.text = string_at(*reasoning, "text");
      e.reasoning_signature = string_at(*reasoning, "signature");
      e.redacted_reasoning = string_at(*reasoning, "redactedContent");
      if (!e.text.empty() || !e.reasoning_signature.empty() || !e.redacted_reasoning.empty())
        emit(e);
    }
  } else if (event.type == "contentBlockStop") {
    auto it = tool_blocks_.find(index);
    if (it != tool_blocks_.end()) {
      // The pieces must add up to one JSON object (empty means no arguments).
      if (!it->second.input_json.empty()) {
        nlohmann::json input = nlohmann::json::parse(it->second.input_json, nullptr, false);
        if (!input.is_object())
          throw ModelError("model_error",
                           "bedrock tool input for " + it->second.id + " is not a JSON object");
      }
      ModelEvent e;
      e.kind = ModelEvent::Kind::kToolUseStop;
      e.tool_use_id = it->second.id;
      tool_blocks_.erase(it);
      emit(e);
    }
  } else if (event.type == "messageStop") {
    stopped_ = true;
    ModelEvent e;
    e.kind = ModelEvent::Kind::kStop;
    e.stop_reason = string_at(p, "stopReason");
    if (e.stop_reason.empty()) e.stop_reason = "end_turn";
    emit(e);
  } else if (event.type == "metadata") {
    saw_metadata_ = true;
    if (const nlohmann::json* usage = child(p, "usage"))
      emit(usage_event(*usage, child(p, "metrics")));
  }
  // messageStart and event types added later carry nothing the turn needs.
}

void translate_converse_response(const nlohmann::json& response, const EmitEvent& emit) {
  const nlohmann::json* output = child(response, "output");
  const nlohmann::json* message = output ? child(*output, "message") : nullptr;
  const nlohmann::json* content = message ? child(*message, "content") : nullptr;
  if (!content || !content->is_array())
    throw ModelError("model_error", "bedrock Converse answer has no output message");
  for (const auto& block : *content) {
    if (const nlohmann::json* text = child(block, "text"); text && text->is_string()) {
      ModelEvent e;
      e.kind = ModelEvent::Kind::kTextDelta;
      e.text = text->get<std::string>();
      emit(e);
    } else if (const nlohmann::json* tool = child(block, "toolUse")) {
      ModelEvent start;
      start.kind = ModelEvent::Kind::kToolUseStart;
      start.tool_use_id = string_at(*tool, "toolUseId");
      start.tool_name = string_at(*tool, "name");
      emit(start);
      ModelEvent input;
      input.kind = ModelEvent::Kind::kToolUseInputDelta;
      input.tool_use_id = start.tool_use_id;
      const nlohmann::json* in = child(*tool, "input");
      input.text = in && in->is_object() ? in->dump() : "{}";
      emit(input);
      ModelEvent stop;
      stop.kind = ModelEvent::Kind::kToolUseStop;
      stop.tool_use_id = start.tool_use_id;
      emit(stop);
    } else if (const nlohmann::json* reasoning = child(block, "reasoningContent")) {
      const nlohmann::json* rt = child(*reasoning, "reasoningText");
      ModelEvent e;
      e.kind = ModelEvent::Kind::kReasoningDelta;
      e.text = rt ? string_at(*rt, "text") : "";
      e.reasoning_signature = rt ? string_at(*rt, "signature") : "";
      e.redacted_reasoning = string_at(*reasoning, "redactedContent");
      if (!e.text.empty() || !e.reasoning_signature.empty() || !e.redacted_reasoning.empty())
        emit(e);
    }
  }
  ModelEvent stop;
  stop.kind = ModelEvent::Kind::kStop;
  stop.stop_reason = string_at(response, "stopReason");
  if (stop.stop_reason.empty()) stop.stop_reason = "end_turn";
  emit(stop);
  if (const nlohmann::json* usage = child(response, "usage"))
    emit(usage_event(*usage, child(response, "metrics")));
}

}  // namespace agent::model
