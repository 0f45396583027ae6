#include "update_history.h"

#include <algorithm>

namespace hub {

void UpdateHistory::append(UpdatePtr update) {
  if (capacity_ == 0) return;
  if (entries_.size() >= capacity_) {
    const UpdatePtr& oldest = entries_.front();
    if (auto it = sequence_by_id_.find(oldest->id); it != sequence_by_id_.end() && it->second == oldest->sequence) {
      sequence_by_id_.erase(it);
    }
    entries_.pop_front();
  }
  sequence_by_id_[update->id] = update->sequence;
  entries_.push_back(std::move(update));
}

UpdateHistory::Replay UpdateHistory::after(std::string_view last_event_id) const {
  Replay replay;
  if (last_event_id == kEarliest) {
    replay.found = true;
    replay.updates.assign(entries_.begin(), entries_.end());
    return replay;
  }
  auto it = sequence_by_id_.find(std::string(last_event_id));
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
