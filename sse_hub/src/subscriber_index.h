// The subscribers of one event loop, indexed so that dispatching an update costs the subscribers
// that match it: exact topics by hash lookup; URI templates and "*" grouped by selector text, so a
// selector shared by thousands of subscribers is matched once per topic (and that result cached).
#pragma once

#include <cstddef>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "subscriber.h"
#include "topic_selector_store.h"
#include "update.h"

namespace hub {

class SubscriberIndex {
 public:
  void add(Subscriber* subscriber);
  void remove(Subscriber* subscriber);

  // Calls deliver(subscriber) once for every subscriber that should receive the update and has
  // not received it yet (its last_sequence is below the update's), then marks it as received.
  // Returns the number of subscribers reached. `deliver` must not add or remove subscribers.
  template <typename Deliver>
  std::size_t dispatch(const Update& update, TopicSelectorStore& selectors, Deliver&& deliver);

  std::size_t size() const { return count_; }

 private:
  using Bucket = std::unordered_set<Subscriber*>;
  template <typename Deliver>
  std::size_t offer(const Bucket& bucket, const Update& update, TopicSelectorStore& selectors, Deliver& deliver);

  std::unordered_map<std::string, Bucket> exact_;
  std::unordered_map<std::string, Bucket> patterns_;  // templates and "*"
  std::size_t count_ = 0;
};

template <typename Deliver>
std::size_t SubscriberIndex::offer(const Bucket& bucket, const Update& update, TopicSelectorStore& selectors,
                                   Deliver& deliver) {
  std::size_t reached = 0;
  for (Subscriber* s : bucket) {
    if (s->last_sequence >= update.sequence) continue;
    if (update.is_private && !(s->allowed_private && selectors.any_matches(update.topics, *s->allowed_private))) {
      continue;
    }
    s->last_sequence = update.sequence;
    deliver(*s);
    ++reached;
  }
  return reached;
}

template <typename Deliver>
std::size_t SubscriberIndex::dispatch(const Update& update, TopicSelectorStore& selectors, Deliver&& deliver) {
  std::size_t reached = 0;
  for (const auto& topic : update.topics) {
    if (auto it = exact_.find(topic); it != exact_.end()) reached += offer(it->second, update, selectors, deliver);
  }
  for (const auto& [selector, bucket] : patterns_) {
    for (const auto& topic : update.topics) {
      if (selectors.matches(topic, selector)) {
        reached += offer(bucket, update, selectors, deliver);
        break;
      }
    }
  }
  return reached;
}

}  // namespace hub
