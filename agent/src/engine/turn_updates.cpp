#include "engine/turn_updates.h"

namespace agent::engine {

TurnUpdates::TurnUpdates(publish::UpdatePublisher& publisher, std::string topic,
                         std::string turn_id, std::chrono::milliseconds coalesce_window)
    : publisher_(publisher),
      topic_(std::move(topic)),
      turn_id_(std::move(turn_id)),
      window_(coalesce_window) {}

void TurnUpdates::text(const std::string& delta) {
  if (delta.empty()) return;
  std::lock_guard lock(mutex_);
  if (pending_.empty()) pending_since_ = std::chrono::steady_clock::now();
  pending_ += delta;
  if (std::chrono::steady_clock::now() - pending_since_ >= window_) flush_locked();
}

void TurnUpdates::send(const std::string& type, nlohmann::json fields) {
  std::lock_guard lock(mutex_);
  flush_locked();
  send_locked(type, std::move(fields));
}

void TurnUpdates::flush(bool force) {
  std::lock_guard lock(mutex_);
  if (pending_.empty()) return;
  if (force || std::chrono::steady_clock::now() - pending_since_ >= window_) flush_locked();
}

std::int64_t TurnUpdates::last_seq() {
  std::lock_guard lock(mutex_);
  return seq_;
}

void TurnUpdates::flush_locked() {
  if (pending_.empty()) return;
  std::string text;
  text.swap(pending_);
  send_locked("text.delta", {{"text", std::move(text)}});
}

void TurnUpdates::send_locked(const std::string& type, nlohmann::json fields) {
  nlohmann::json data = {{"type", type}, {"turn_id", turn_id_}, {"seq", ++seq_}};
  for (auto& [key, value] : fields.items()) data[key] = std::move(value);
  publisher_.publish(topic_, data);
}

}  // namespace agent::engine
