// The JSON shapes of the API's sessions and messages (documented in README.md, "## agent").
#pragma once

#include <nlohmann/json.hpp>

#include "store/session_store.h"

namespace agent::api {

// {id, title, created_at, updated_at}
nlohmann::json session_json(const store::Session& session);
// {seq, role, turn_id, text, content, status, stop_reason, error, usage, created_at, updated_at}
nlohmann::json message_json(const store::StoredMessage& message);

}  // namespace agent::api
