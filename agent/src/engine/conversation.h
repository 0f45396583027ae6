// Turns stored history into what a model expects: alternating user/assistant messages where an
// assistant's tool calls are followed by a user message carrying their results. Stored assistant
// messages keep text and tool calls in one ordered list (what the UI redraws); this splits them
// at each run of tool calls. Empty and unfinished parts are dropped or closed so that the model
// is never sent a tool call without a result.
#pragma once

#include <vector>

#include "model/model_provider.h"
#include "store/session_store.h"

namespace agent::engine {

std::vector<model::Message> to_model_messages(const std::vector<store::StoredMessage>& history);

// The text of a stored message's content blocks, concatenated.
std::string message_text(const nlohmann::json& content);

}  // namespace agent::engine
