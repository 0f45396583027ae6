#include "update_history.h"

#include <algorithm>

namespace hub {

UpdateHistory::UpdateHistory(std::size_t capacity, std::size_t max_bytes)
    : capacity_(capacity), max_bytes_(max_bytes) {
  sequence_by_id_.reserve(std::min<std::size_t>(capacity, 1 << 16));
}

std::size_t UpdateHistory::footprint(const Update& update) {
  // The Update and its control block, the deque and index slots, and each string's buffer.
  std::size_t bytes =
      sizeof(Update) + 96 + update.id.size() + update.type.size() + update.data.size();
  if (update.frame) bytes += update.frame->size() + 48;
  for (const auto& topic : update.topics) bytes += sizeof(std::string) + topic.size();
  return bytes;
}

void UpdateHistory::evict_oldest() {
  const UpdatePtr& oldest = entries_.front();
  if (auto it = sequence_by_id_.find(oldest->id);
      it != sequence_by_id_.end() && it->second == oldest->sequence) {
    sequence_by_id_.erase(it);
  }
  bytes_ -= footprint(*oldest);
  entries_.pop_front();
}

void UpdateHistory::append(UpdatePtr update) {
  if (capacity_ == 0) return;
  const std::size_t weight = footprint(*update);
  if (weight > max_bytes_) return;
  while (!entries_.empty() && (entries_.size() >= capacity_ || bytes_ + weight > max_bytes_))
    evict_oldest();
  // A repeated id: the key must view the newest update's id, which outlives the older one.
  const std::string_view id = update->id;
  if (auto [it, inserted] = sequence_by_id_.try_emplace(id, update->sequence); !inserted) {
    sequence_by_id_.erase(it);
    sequence_by_id_.emplace(id, update->sequence);
  }
  bytes_ += weight;
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
  auto first =
      std::upper_bound(entries_.begin(), entries_.end(), sequence,
                       [](std::uint64_t s, const UpdatePtr& u) { return s < u->sequence; });
  replay.updates.assign(first, entries_.end());
  return replay;
}

std::string UpdateHistory::last_event_id() const {
  return entries_.empty() ? std::string(kEarliest) : entries_.back()->id;
}

}  // namespace hub
