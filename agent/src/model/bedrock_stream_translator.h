// Turns Bedrock Converse answers into the provider-neutral ModelEvents: ConverseStream events one
// by one (messageStart, contentBlockStart/Delta/Stop, messageStop, metadata, in-stream
// exceptions) and the non-streaming Converse JSON as a whole. Unknown keys and event types are
// ignored; malformed payloads become ModelError("model_error").
#pragma once

#include <functional>
#include <map>
#include <string>

#include "model/model_provider.h"
#include "shared/aws/event_stream.h"

namespace agent::model {

using EmitEvent = std::function<void(const ModelEvent&)>;

// The ModelError a Bedrock error type maps to, from HTTP errors (ThrottlingException) and
// in-stream exceptions (throttlingException) alike.
ModelError bedrock_error(const std::string& error_type, const std::string& message, int status = 0);

class ConverseStreamTranslator {
 public:
  explicit ConverseStreamTranslator(EmitEvent emit) : emit_(std::move(emit)) {}

  // Handles one decoded event-stream message. Throws ModelError for exceptions and errors.
  void on_message(const shared::aws::StreamEvent& event);
  // True once messageStop arrived (metadata may still follow).
  bool stopped() const { return stopped_; }
  bool saw_metadata() const { return saw_metadata_; }
  // True once anything was emitted: a retry would repeat output.
  bool emitted() const { return emitted_; }

 private:
  void emit(const ModelEvent& e);

  EmitEvent emit_;
  struct ToolBlock {
    std::string id;
    std::string input_json;
  };
  std::map<int, ToolBlock> tool_blocks_;  // by contentBlockIndex
  bool stopped_ = false;
  bool saw_metadata_ = false;
  bool emitted_ = false;
};

// Emits the events a Converse (non-streaming) answer stands for.
void translate_converse_response(const nlohmann::json& response, const EmitEvent& emit);

}  // namespace agent::model
