// How many hub streams the app relays at once: at most APP_HUB_MAX_STREAMS in all and at most
// APP_HUB_MAX_STREAMS_PER_USER for one key (the user of a valid hub cookie, else the peer
// address), so that one client cannot take every place. A place is held by a token and given back
// when the token is released. Thread-safe: every event loop takes places from the one budget.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace app {

class StreamBudget {
 public:
  enum class Refusal { kNone, kTotal, kPerKey };

  // on_change(open) runs after every take and release, outside the lock.
  StreamBudget(std::size_t max_total, std::size_t max_per_key,
               std::function<void(std::size_t)> on_change = {});

  // A place for key, or null (and why) when there is none.
  std::shared_ptr<void> take(const std::string& key, Refusal* why = nullptr);
  std::size_t open() const;
  std::size_t open_for(const std::string& key) const;

 private:
  struct State {
    std::size_t max_total;
    std::size_t max_per_key;
    std::function<void(std::size_t)> on_change;
    mutable std::mutex mutex;
    std::size_t open = 0;
    std::unordered_map<std::string, std::size_t> by_key;
  };
  // Shared with the tokens, which may outlive the budget.
  std::shared_ptr<State> state_;
};

}  // namespace app
