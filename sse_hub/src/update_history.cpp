#include "update_history.h"

#include <algorithm>

namespace hub {

UpdateHistory::UpdateHistory(std::size_t capacity) : capacity_(capacity) {
  sequence_by_id_.reserve(std::min<std::size_t>(capacity, 1 << 16));
}

void UpdateHistory::append(UpdatePtr update) {
  if (capacity_ == 0) return;
  if (entries_.size() >= capacity_) {
    const UpdatePtr& oldest = entries_.front();
    if (auto it = sequence_by_id_.find(oldest->id); it != sequence_by_id_.end() && it->second == oldest->sequence) {
      sequence_by_id_.erase(it);
    }
    entries_.pop_front();
  }
  // A repeated id: the key must view the newest update's id, which outlives the older one.
  const std::string_view id = update->id;
  if (auto [it, inserted] = sequence_by_id_.try_emplace(id, update->sequence); !inserted) {
    sequence_by_id_.erase(it);
    sequence_by_id_.emplace(id, update->sequence);
  }
  entries_.push_back(std::move(update));
}

UpdateHistory::Replay UpdateHistory::after(std::string_view last_event_id) const {
  Replay replay;
  if (last_event_id == kEarliest) {
    replay.found = true;
    replay.updates.assign(entries_.begin(), entries_.end());
    return replay;
  }
  auto it = sequence_by_id_.find(last_event_id);
  if (it == sequence_by_id_.end()) return replay;
  replay.found = true;
  const std::uint64_t sequence = it->second;
  auto first = std::upper_bound(entries_.begin(), entries_.end(), sequence,
                                [](std::uint64_t s, const UpdatePtr& u) { return s < u->sequence; });
  replay.updates.assign(first, entries_.end());
  return replay;
}

std::string UpdateHistory::last_event_id() const {
  return entries_.empty() ? std::string(kEarliest) : entries_.back()->id;
}

}  // namespace hub
