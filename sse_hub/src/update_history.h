// The bounded history of recent updates that lets a subscriber resume after Last-Event-ID. Not
// thread-safe: the UpdateBus guards it with its own lock.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "update.h"

namespace hub {

// The Last-Event-ID value that asks for the whole history.
inline constexpr std::string_view kEarliest = "earliest";

class UpdateHistory {
 public:
  // capacity: updates kept (HUB_HISTORY_SIZE); max_bytes: what they may weigh together
  // (HUB_HISTORY_BYTES), counted by footprint().
  explicit UpdateHistory(std::size_t capacity, std::size_t max_bytes = SIZE_MAX);

  // Appends an update (sequence numbers must increase); the oldest are evicted past either
  // bound. An update heavier than max_bytes on its own is not kept at all.
  void append(UpdatePtr update);

  // The memory an update holds while it is in the history: its frame, id, type and topics and
  // the objects around them.
  static std::size_t footprint(const Update& update);

  struct Replay {
    std::vector<UpdatePtr> updates;  // in publication order
    bool found = false;              // false: the id is not (or no longer) in the history
  };
  // The updates published after the one with this id ("earliest": all of them). With several
  // updates sharing an id, the latest one counts.
  Replay after(std::string_view last_event_id) const;

  // The id of the newest update, or "earliest" when the history is empty.
  std::string last_event_id() const;
  std::size_t size() const { return entries_.size(); }
  std::size_t bytes() const { return bytes_; }
  std::size_t capacity() const { return capacity_; }

 private:
  void evict_oldest();

  std::size_t capacity_;
  std::size_t max_bytes_;
  std::size_t bytes_ = 0;
  std::deque<UpdatePtr> entries_;
  // id -> sequence of the newest update with that id. The keys view the ids of the updates in
  // entries_ (no copy per publish); an entry leaves this map when its update leaves entries_.
  std::unordered_map<std::string_view, std::uint64_t> sequence_by_id_;
};

}  // namespace hub
