// Turns OpenAI chat completions answers into the provider-neutral ModelEvents: the streamed
// chat.completion.chunk events one by one, and the non-streaming chat.completion as a whole.
//
// Compatible servers differ, so it is lenient where they do: tool calls are matched by `index`,
// by `id` when the index is missing (older Ollama) or repeated for a new id, and get an id when
// the server gives none; `arguments` may be a string (the standard) or an object; reasoning comes
// as `reasoning_content` (vLLM, DeepSeek, llama.cpp) or `reasoning`; a `stop` finish after tool
// calls means tool_use (gpt-4o and Ollama send it); a stream may end without `[DONE]` once it
// finished. Unknown keys are ignored. Error objects become ModelError.
#pragma once

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "model/model_provider.h"
#include "model/sse_decoder.h"

namespace agent::model {

using EmitEvent = std::function<void(const ModelEvent&)>;

// The stop reason for a finish_reason: stop -> end_turn (tool_use after tool calls), tool_calls
// and function_call -> tool_use, length -> max_tokens, content_filter -> content_filtered; any
// other value passes through as sent.
std::string stop_reason_for(const std::string& finish_reason, bool saw_tool_calls);

// The ModelError for an HTTP error answer: 401/403 unauthorized, 429 throttled, 408 and 5xx
// retryable (timeout, unavailable), 400/404/409/413/422 validation, else model_error. The
// message carries the server's error message, cut short, with `secret` (the API key) scrubbed.
ModelError openai_http_error(long status, const std::string& body, const std::string& secret);
// The ModelError for an error object sent inside a stream or a 200 answer.
ModelError openai_error_object(const nlohmann::json& error, const std::string& secret);

class ChatStreamTranslator {
 public:
  ChatStreamTranslator(EmitEvent emit, std::string secret)
      : emit_(std::move(emit)), secret_(std::move(secret)) {}

  // One server-sent event: a chunk, an error, or `[DONE]`. Throws ModelError.
  void on_event(const SseEvent& event);
  // One chat.completion.chunk (or an object carrying `error`).
  void on_chunk(const nlohmann::json& chunk);
  // The body ended (or `[DONE]` came): gives the usage; throws when no finish_reason came.
  void on_end();

  bool finished() const { return finished_; }  // a finish_reason arrived
  bool ended() const { return ended_; }        // on_end ran
  bool emitted() const { return emitted_; }    // a retry would repeat output

 private:
  struct ToolCall {
    std::string id;
    bool server_id = false;  // the id came from the server (not made up here)
    std::string name;
    std::string pending_arguments;  // arguments that came before the name
    bool started = false;
  };
  void emit(const ModelEvent& e);
  void on_tool_call_delta(const nlohmann::json& delta);
  ToolCall& slot_for(const nlohmann::json& delta);
  void finish(const std::string& finish_reason);

  EmitEvent emit_;
  std::string secret_;
  std::vector<ToolCall> calls_;           // in order of appearance
  std::map<long, std::size_t> by_index_;  // tool call `index` -> position in calls_
  std::optional<nlohmann::json> usage_;
  bool finished_ = false;
  bool ended_ = false;
  bool emitted_ = false;
};

// Emits the events a non-streaming chat.completion stands for. Throws ModelError.
void translate_chat_completion(const nlohmann::json& completion, const EmitEvent& emit,
                               const std::string& secret);

}  // namespace agent::model
