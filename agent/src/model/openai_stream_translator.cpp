#include "model/openai_stream_translator.h"

#include <random>

namespace agent::model {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxErrorMessageBytes = 300;

std::string string_at(const json& j, const char* key) {
  if (!j.is_object()) return "";
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// Error text shown to people: the secret scrubbed, whitespace runs folded, cut short on a
// UTF-8 boundary.
std::string clean_message(std::string text, const std::string& secret) {
  if (!secret.empty())
    for (auto at = text.find(secret); at != std::string::npos; at = text.find(secret, at))
      text.replace(at, secret.size(), "[redacted]");
  std::string out;
  for (const char c : text) {
    const bool space = c == ' ' || c == '\n' || c == '\r' || c == '\t';
    if (space && (out.empty() || out.back() == ' ')) continue;
    out += space ? ' ' : c;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  if (out.size() > kMaxErrorMessageBytes) {
    std::size_t cut = kMaxErrorMessageBytes;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
    out = out.substr(0, cut) + "...";
  }
  return out;
}

// The message of an error answer, from the shapes servers use: {"error":{"message"}} (OpenAI,
// Ollama, llama.cpp), {"error":"..."}, {"message"} (vLLM), {"detail"} (FastAPI servers).
std::string message_of_error_body(const std::string& body) {
  const json j = json::parse(body, nullptr, false);
  if (j.is_object()) {
    if (j.contains("error")) {
      const auto& e = j["error"];
      if (e.is_string()) return e.get<std::string>();
      if (!string_at(e, "message").empty()) return string_at(e, "message");
    }
    if (!string_at(j, "message").empty()) return string_at(j, "message");
    if (!string_at(j, "detail").empty()) return string_at(j, "detail");
    return "";
  }
  return body;  // plain text (or a proxy's HTML page, cut short later)
}

std::string made_up_call_id() {
  thread_local std::mt19937_64 engine{std::random_device{}()};
  static const char* hex = "0123456789abcdef";
  std::string id = "call_";
  for (int i = 0; i < 24; ++i) id += hex[engine() % 16];
  return id;
}

int token_count(const json& usage, const char* key) {
  auto it = usage.find(key);
  return it != usage.end() && it->is_number() ? it->get<int>() : 0;
}

}  // namespace

std::string stop_reason_for(const std::string& finish_reason, bool saw_tool_calls) {
  if (finish_reason == "stop") return saw_tool_calls ? "tool_use" : "end_turn";
  if (finish_reason == "tool_calls" || finish_reason == "function_call") return "tool_use";
  if (finish_reason == "length") return "max_tokens";
  if (finish_reason == "content_filter") return "content_filtered";
  return finish_reason;
}

ModelError openai_http_error(long status, const std::string& body, const std::string& secret) {
  const std::string detail = clean_message(message_of_error_body(body), secret);
  const std::string message =
      "the model server answered " + std::to_string(status) + (detail.empty() ? "" : ": " + detail);
  switch (status) {
    case 401:
    case 403:
      return ModelError("unauthorized", message, false);
    case 429:
      return ModelError("throttled", message, true);
    case 408:
      return ModelError("timeout", message, true);
    case 400:
    case 404:
    case 409:
    case 413:
    case 422:
      return ModelError("validation", message, false);
    default:
      if (status >= 500) return ModelError("unavailable", message, true);
      return ModelError("model_error", message, false);
  }
}

ModelError openai_error_object(const json& error, const std::string& secret) {
  std::string text = error.is_string() ? error.get<std::string>() : string_at(error, "message");
  if (text.empty()) text = error.dump();
  const std::string message = "the model server reported an error: " + clean_message(text, secret);
  const std::string type = string_at(error, "type") + " " + string_at(error, "code");
  const bool throttled = (error.is_object() && error.contains("code") && error["code"] == 429) ||
                         type.find("rate_limit") != std::string::npos;
  if (throttled) return ModelError("throttled", message, true);
  return ModelError("model_error", message, false);
}

void ChatStreamTranslator::emit(const ModelEvent& e) {
  emitted_ = true;
  emit_(e);
}

void ChatStreamTranslator::on_event(const SseEvent& event) {
  if (ended_) return;
  if (event.event == "error") {
    const json j = json::parse(event.data, nullptr, false);
    if (j.is_object() && j.contains("error")) throw openai_error_object(j["error"], secret_);
    throw openai_error_object(j.is_discarded() ? json(event.data) : j, secret_);
  }
  std::string_view data = event.data;
  while (!data.empty() && (data.back() == ' ' || data.back() == '\n')) data.remove_suffix(1);
  if (data == "[DONE]") {
    on_end();
    return;
  }
  const json chunk = json::parse(data, nullptr, false);
  if (!chunk.is_object())
    throw ModelError("model_error", "the model server sent an event that is not a JSON object");
  on_chunk(chunk);
}

void ChatStreamTranslator::on_chunk(const json& chunk) {
  if (auto e = chunk.find("error"); e != chunk.end() && !e->is_null())
    throw openai_error_object(*e, secret_);
  if (auto u = chunk.find("usage"); u != chunk.end() && u->is_object()) usage_ = *u;
  auto choices = chunk.find("choices");
  if (choices == chunk.end() || !choices->is_array() || choices->empty()) return;
  // Only one answer is asked for (no `n`): the choice with index 0.
  const json* choice = &choices->front();
  for (const auto& c : *choices)
    if (c.is_object() && c.contains("index") && c["index"] == 0) choice = &c;
  if (!choice->is_object()) return;
  const json* delta = nullptr;
  if (auto d = choice->find("delta"); d != choice->end() && d->is_object()) delta = &*d;
  if (delta != nullptr && !finished_) {
    // vLLM sends both names for a while; one of them is enough.
    std::string reasoning = string_at(*delta, "reasoning_content");
    if (reasoning.empty()) reasoning = string_at(*delta, "reasoning");
    if (!reasoning.empty()) emit({ModelEvent::Kind::kReasoningDelta, reasoning});
    for (const char* key : {"content", "refusal"}) {
      const std::string text = string_at(*delta, key);
      if (!text.empty()) emit({ModelEvent::Kind::kTextDelta, text});
    }
    if (auto calls = delta->find("tool_calls"); calls != delta->end() && calls->is_array())
      for (const auto& call : *calls)
        if (call.is_object()) on_tool_call_delta(call);
  }
  if (auto reason = choice->find("finish_reason"); reason != choice->end() && reason->is_string())
    finish(reason->get<std::string>());
}

ChatStreamTranslator::ToolCall& ChatStreamTranslator::slot_for(const json& delta) {
  const long index = delta.contains("index") && delta["index"].is_number_integer()
                         ? delta["index"].get<long>()
                         : -1;
  const std::string id = string_at(delta, "id");
  auto add = [&]() -> ToolCall& {
    calls_.push_back(ToolCall{id, !id.empty(), "", "", false});
    if (index >= 0) by_index_[index] = calls_.size() - 1;
    return calls_.back();
  };
  if (index >= 0) {
    auto it = by_index_.find(index);
    if (it == by_index_.end()) return add();
    ToolCall& call = calls_[it->second];
    if (id.empty() || id == call.id) return call;
    if (!call.server_id && !call.started) {
      call.id = id;
      call.server_id = true;
      return call;
    }
    return add();  // a new id under a used index: a new call (older Ollama numbers every call 0)
  }
  if (!id.empty()) {
    for (auto& call : calls_)
      if (call.server_id && call.id == id) return call;
    return add();
  }
  return calls_.empty() ? add() : calls_.back();
}

void ChatStreamTranslator::on_tool_call_delta(const json& delta) {
  ToolCall& call = slot_for(delta);
  const json function = delta.contains("function") && delta["function"].is_object()
                            ? delta["function"]
                            : json::object();
  if (call.name.empty()) call.name = string_at(function, "name");
  std::string piece;
  if (auto args = function.find("arguments"); args != function.end()) {
    if (args->is_string()) {
      piece = args->get<std::string>();
    } else if (args->is_object()) {
      piece = args->dump();
    }
  }
  if (!call.started && !call.name.empty()) {
    if (call.id.empty()) call.id = made_up_call_id();
    call.started = true;
    ModelEvent start{ModelEvent::Kind::kToolUseStart};
    start.tool_use_id = call.id;
    start.tool_name = call.name;
    emit(start);
    piece = call.pending_arguments + piece;
    call.pending_arguments.clear();
  }
  if (piece.empty()) return;
  if (!call.started) {
    call.pending_arguments += piece;
    return;
  }
  ModelEvent input{ModelEvent::Kind::kToolUseInputDelta, piece};
  input.tool_use_id = call.id;
  emit(input);
}

void ChatStreamTranslator::finish(const std::string& finish_reason) {
  if (finished_) return;
  finished_ = true;
  for (const auto& call : calls_) {
    if (!call.started)
      throw ModelError("model_error", "the model server sent a tool call without a function name");
    ModelEvent stop{ModelEvent::Kind::kToolUseStop};
    stop.tool_use_id = call.id;
    emit(stop);
  }
  ModelEvent stop{ModelEvent::Kind::kStop};
  stop.stop_reason = stop_reason_for(finish_reason, !calls_.empty());
  emit(stop);
}

void ChatStreamTranslator::on_end() {
  if (ended_) return;
  ended_ = true;
  if (!finished_)
    throw ModelError("unavailable", "the model server's stream ended before a finish_reason", true);
  if (usage_) {
    ModelEvent usage{ModelEvent::Kind::kUsage};
    usage.input_tokens = token_count(*usage_, "prompt_tokens");
    usage.output_tokens = token_count(*usage_, "completion_tokens");
    emit(usage);
  }
}

void translate_chat_completion(const json& completion, const EmitEvent& emit,
                               const std::string& secret) {
  if (!completion.is_object())
    throw ModelError("model_error", "the model server's answer is not a JSON object");
  if (auto e = completion.find("error"); e != completion.end() && !e->is_null())
    throw openai_error_object(*e, secret);
  auto choices = completion.find("choices");
  if (choices == completion.end() || !choices->is_array() || choices->empty() ||
      !choices->front().is_object())
    throw ModelError("model_error", "the model server's answer has no choices");
  const json& choice = choices->front();
  // The whole message is one big delta; tool calls get their position as index.
  json delta = choice.contains("message") && choice["message"].is_object() ? choice["message"]
                                                                           : json::object();
  if (delta.contains("tool_calls") && delta["tool_calls"].is_array())
    for (std::size_t i = 0; i < delta["tool_calls"].size(); ++i)
      if (delta["tool_calls"][i].is_object()) delta["tool_calls"][i]["index"] = i;
  const std::string finish_reason = string_at(choice, "finish_reason");
  json chunk = {
      {"choices",
       json::array({{{"index", 0},
                     {"delta", delta},
                     {"finish_reason", finish_reason.empty() ? "stop" : finish_reason}}})}};
  if (completion.contains("usage")) chunk["usage"] = completion["usage"];
  ChatStreamTranslator translator(emit, secret);
  translator.on_chunk(chunk);
  translator.on_end();
}

}  // namespace agent::model
