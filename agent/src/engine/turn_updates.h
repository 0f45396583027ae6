// The live side of one turn: stamps each update with the turn id and the next seq, and coalesces
// text deltas so that a token stream becomes a few updates per 100 ms, not one HTTP request per
// token. Text is flushed before any other update (so order is kept), when the coalescing window
// has passed, and at the end. Thread-safe: the engine's ticker flushes stalled text.
#pragma once

#include <chrono>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

#include "publish/update_publisher.h"

namespace agent::engine {

class TurnUpdates {
 public:
  TurnUpdates(publish::UpdatePublisher& publisher, std::string topic, std::string turn_id,
              std::chrono::milliseconds coalesce_window);

  void text(const std::string& delta);
  // Any other update: {"type": type, "turn_id", "seq", ...fields}.
  void send(const std::string& type, nlohmann::json fields = nlohmann::json::object());
  // Publishes pending text when it has waited for the window (or always, with force).
  void flush(bool force = false);
  std::int64_t last_seq();

 private:
  void send_locked(const std::string& type, nlohmann::json fields);
  void flush_locked();

  publish::UpdatePublisher& publisher_;
  std::string topic_;
  std::string turn_id_;
  std::chrono::milliseconds window_;
  std::mutex mutex_;
  std::int64_t seq_ = 0;
  std::string pending_;
  std::chrono::steady_clock::time_point pending_since_{};
};

}  // namespace agent::engine
