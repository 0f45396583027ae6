// The interface every model (Bedrock, OpenAI-compatible, demo) implements for the turn engine.
// A provider turns a conversation plus tool specs into a stream of events; the turn engine
// assembles them, runs tools, and calls again until the model stops.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace agent::model {

// One block of a message, in the Bedrock Converse shape (the richest of the providers).
struct ContentBlock {
  enum class Kind { kText, kToolUse, kToolResult, kReasoning };
  Kind kind = Kind::kText;
  std::string text;  // kText, kReasoning
  // kReasoning: what the model needs to accept its reasoning back (Bedrock requires the reasoning
  // blocks of an assistant message that used tools, unchanged, in the follow-up request): the
  // signature over `text`, or instead the encrypted reasoning (redactedContent, base64 as sent).
  std::string reasoning_signature;
  std::string redacted_reasoning;
  std::string tool_use_id;     // kToolUse, kToolResult
  std::string tool_name;       // kToolUse
  nlohmann::json tool_input;   // kToolUse: the assembled JSON input
  std::string tool_output;     // kToolResult: text given back to the model
  bool tool_is_error = false;  // kToolResult
};

struct Message {
  std::string role;  // "user" | "assistant"
  std::vector<ContentBlock> content;
};

struct ToolSpec {
  std::string name;
  std::string description;
  nlohmann::json input_schema;  // a JSON Schema object
};

struct ModelRequest {
  std::string system_prompt;
  std::vector<Message> messages;
  std::vector<ToolSpec> tools;
  int max_tokens = 2048;
  std::optional<double> temperature;
  std::chrono::milliseconds deadline{120'000};
};

// What a stream reports, in order. Text and tool input arrive in pieces; the final stop reason
// comes in kStop, token counts in kUsage (which may come after kStop, as Bedrock's metadata).
struct ModelEvent {
  enum class Kind {
    kTextDelta,
    kReasoningDelta,
    kToolUseStart,
    kToolUseInputDelta,
    kToolUseStop,
    kStop,
    kUsage
  };
  Kind kind = Kind::kTextDelta;
  std::string text;  // kTextDelta, kReasoningDelta; kToolUseInputDelta: a piece of JSON
  // kReasoningDelta may instead carry the reasoning block's signature or its redacted
  // (encrypted, base64) content; see ContentBlock.
  std::string reasoning_signature;
  std::string redacted_reasoning;
  std::string tool_use_id;  // kToolUse*
  std::string tool_name;    // kToolUseStart
  std::string stop_reason;  // kStop: end_turn | tool_use | max_tokens | stop_sequence |
                            // guardrail_intervened | content_filtered
  int input_tokens = 0;     // kUsage
  int output_tokens = 0;    // kUsage
  int latency_ms = 0;       // kUsage, when the provider reports it
};

// A failure of the model call. code is short and stable (throttled, model_error, validation,
// unauthorized, timeout, unavailable, cancelled); message is for people; retryable says whether
// the same request may succeed later.
class ModelError : public std::runtime_error {
 public:
  ModelError(std::string code, const std::string& message, bool retryable = false)
      : std::runtime_error(message), code_(std::move(code)), retryable_(retryable) {}
  const std::string& code() const { return code_; }
  bool retryable() const { return retryable_; }

 private:
  std::string code_;
  bool retryable_;
};

class ModelProvider {
 public:
  virtual ~ModelProvider() = default;
  virtual std::string name() const = 0;
  // Streams one model call. on_event is called on the calling thread as events arrive.
  // `cancelled` is polled; once it is true the call stops promptly and throws
  // ModelError("cancelled"). Other failures throw ModelError.
  virtual void stream(const ModelRequest& request,
                      const std::function<void(const ModelEvent&)>& on_event,
                      const std::atomic<bool>& cancelled) = 0;
};

}  // namespace agent::model
