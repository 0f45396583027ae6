#include "update_bus.h"

namespace hub {

void UpdateBus::add_listener(Listener listener) {
  std::lock_guard lock(mutex_);
  listeners_.push_back(std::move(listener));
}

UpdatePtr UpdateBus::publish(Update update) {
  update.accepted_at = std::chrono::steady_clock::now();
  encode_frame(update);
  std::string().swap(update.data);  // the frame now holds the only copy
  std::lock_guard lock(mutex_);
  update.sequence = ++sequence_;
  auto shared = std::make_shared<const Update>(std::move(update));
  history_.append(shared);
  last_dispatched_ = shared;
  for (const auto& listener : listeners_) listener(shared);
  return shared;
}

UpdateBus::Attachment UpdateBus::attach(const std::string& last_event_id) const {
  std::lock_guard lock(mutex_);
  Attachment a;
  a.sequence = sequence_;
  if (!last_event_id.empty()) a.replay = history_.after(last_event_id);
  a.last_event_id = history_.last_event_id();
  return a;
}

std::string UpdateBus::last_event_id() const {
  std::lock_guard lock(mutex_);
  return last_dispatched_ ? last_dispatched_->id : std::string(kEarliest);
}

std::size_t UpdateBus::history_bytes() const {
  std::lock_guard lock(mutex_);
  return history_.bytes();
}

std::size_t UpdateBus::history_size() const {
  std::lock_guard lock(mutex_);
  return history_.size();
}

}  // namespace hub
