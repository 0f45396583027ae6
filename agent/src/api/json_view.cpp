#include "api/json_view.h"

#include "engine/conversation.h"
#include "identifiers.h"

namespace agent::api {

nlohmann::json session_json(const store::Session& session) {
  return {{"id", session.id},
          {"title", session.title},
          {"created_at", format_timestamp(session.created_at_ms)},
          {"updated_at", format_timestamp(session.updated_at_ms)}};
}

nlohmann::json message_json(const store::StoredMessage& m) {
  nlohmann::json j = {
      {"seq", m.seq},
      {"role", m.role},
      {"turn_id", m.turn_id},
      {"text", engine::message_text(m.content)},
      {"content", m.content},
      {"status", m.status},
      {"stop_reason", m.stop_reason.empty() ? nlohmann::json() : nlohmann::json(m.stop_reason)},
      {"error", nlohmann::json()},
      {"usage", {{"input_tokens", m.input_tokens}, {"output_tokens", m.output_tokens}}},
      {"created_at", format_timestamp(m.created_at_ms)},
      {"updated_at", format_timestamp(m.updated_at_ms)}};
  if (!m.error_code.empty()) j["error"] = {{"code", m.error_code}, {"message", m.error_message}};
  return j;
}

}  // namespace agent::api
