#include "stream_budget.h"

namespace app {

StreamBudget::StreamBudget(std::size_t max_total, std::size_t max_per_key,
                           std::function<void(std::size_t)> on_change)
    : state_(std::make_shared<State>()) {
  state_->max_total = max_total;
  state_->max_per_key = max_per_key;
  state_->on_change = std::move(on_change);
}

std::shared_ptr<void> StreamBudget::take(const std::string& key, Refusal* why) {
  std::size_t open = 0;
  {
    std::lock_guard lock(state_->mutex);
    Refusal refusal = Refusal::kNone;
    auto it = state_->by_key.find(key);
    if (state_->open >= state_->max_total) {
      refusal = Refusal::kTotal;
    } else if (it != state_->by_key.end() && it->second >= state_->max_per_key) {
      refusal = Refusal::kPerKey;
    }
    if (why) *why = refusal;
    if (refusal != Refusal::kNone) return nullptr;
    ++state_->by_key[key];
    open = ++state_->open;
  }
  if (state_->on_change) state_->on_change(open);
  auto state = state_;
  // The token points at the budget's state (so it tests true) and its deleter gives the place
  // back instead of deleting anything.
  return std::shared_ptr<void>(static_cast<void*>(state.get()), [state, key](void*) {
    std::size_t now_open = 0;
    {
      std::lock_guard lock(state->mutex);
      auto it = state->by_key.find(key);
      if (it != state->by_key.end() && --it->second == 0) state->by_key.erase(it);
      now_open = --state->open;
    }
    if (state->on_change) state->on_change(now_open);
  });
}

std::size_t StreamBudget::open() const {
  std::lock_guard lock(state_->mutex);
  return state_->open;
}

std::size_t StreamBudget::open_for(const std::string& key) const {
  std::lock_guard lock(state_->mutex);
  const auto it = state_->by_key.find(key);
  return it == state_->by_key.end() ? 0 : it->second;
}

}  // namespace app
