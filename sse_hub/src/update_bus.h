// Where accepted updates go: assigns each its sequence number, keeps the history, and hands the
// update to every event loop in one order (all under one lock, so that each loop sees sequence
// numbers increase and a subscriber joining with a history replay neither misses nor repeats an
// update). Thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "update.h"
#include "update_history.h"

namespace hub {

class UpdateBus {
 public:
  using Listener = std::function<void(const UpdatePtr&)>;

  explicit UpdateBus(std::size_t history_size, std::size_t history_bytes = SIZE_MAX)
      : history_(history_size, history_bytes) {}

  // Listeners are added before the hub serves and called with the lock held: they must only
  // queue the update (post it to their loop), never block.
  void add_listener(Listener listener);

  // Accepts an update: sequence, accept time and encoded frame (its data is released then),
  // history, listeners.
  UpdatePtr publish(Update update);

  struct Attachment {
    std::uint64_t sequence = 0;    // the newest sequence handed out so far
    UpdateHistory::Replay replay;  // empty unless a last event id was given
    std::string last_event_id;     // the newest id in the history ("earliest" when empty)
  };
  // What a new subscriber starts from: the history after last_event_id (none when empty) and the
  // sequence number from which live updates are new to it.
  Attachment attach(const std::string& last_event_id) const;

  // The id of the newest update handed to the listeners ("earliest" before the first), kept
  // apart from the history so that it moves on with HUB_HISTORY_SIZE=0 too (the subscriptions
  // API's lastEventID and ETag).
  std::string last_event_id() const;
  std::size_t history_size() const;
  std::size_t history_bytes() const;

 private:
  mutable std::mutex mutex_;
  std::uint64_t sequence_ = 0;
  UpdateHistory history_;
  UpdatePtr last_dispatched_;
  std::vector<Listener> listeners_;
};

}  // namespace hub
