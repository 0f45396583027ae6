// Where the turn engine sends live updates: the hub in production, a recorder in tests. publish()
// never blocks on the network and never throws: a turn must complete and be persisted even when
// nobody can be told about it live.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace agent::publish {

class UpdatePublisher {
 public:
  virtual ~UpdatePublisher() = default;
  // Queues one private update of `data` (a JSON object) on `topic`.
  virtual void publish(const std::string& topic, const nlohmann::json& data) = 0;
  // Empty when the destination answers; otherwise why not (for /readyz).
  virtual std::string check_ready() = 0;
};

// The topic of a session's live updates: /users/{user}/sessions/{session}.
inline std::string session_topic(const std::string& user_id, const std::string& session_id) {
  return "/users/" + user_id + "/sessions/" + session_id;
}

}  // namespace agent::publish
