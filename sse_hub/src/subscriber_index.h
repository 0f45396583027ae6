// The subscribers of one event loop, indexed so that dispatching an update costs the subscribers
// that match it: exact topics by hash lookup; URI templates and "*" grouped by selector text (a
// selector shared by thousands of subscribers is matched once per topic, and that result cached)
// and found through their literal prefix (the text before the first '{'), so that thousands of
// per-user templates such as /users/alice/sessions/{session} cost one lookup per distinct prefix
// length, not one match each.
#pragma once

#include <cstddef>
#include <map>
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
  std::size_t offer(const Bucket& bucket, const Update& update, TopicSelectorStore& selectors,
                    Deliver& deliver);

  using Patterns = std::unordered_map<std::string, Bucket>;  // selector -> subscribers

  std::unordered_map<std::string, Bucket> exact_;
  std::unordered_map<std::string, Patterns> patterns_by_prefix_;  // templates and "*"
  std::map<std::size_t, std::size_t> prefix_lengths_;             // length -> selectors with it
  std::size_t count_ = 0;
};

template <typename Deliver>
std::size_t SubscriberIndex::offer(const Bucket& bucket, const Update& update,
                                   TopicSelectorStore& selectors, Deliver& deliver) {
  std::size_t reached = 0;
  for (Subscriber* s : bucket) {
    if (s->last_sequence >= update.sequence) continue;
    if (update.is_private &&
        !(s->allowed_private && selectors.any_matches(update.topics, *s->allowed_private))) {
      continue;
    }
    s->last_sequence = update.sequence;
    deliver(*s);
    ++reached;
  }
  return reached;
}

template <typename Deliver>
std::size_t SubscriberIndex::dispatch(const Update& update, TopicSelectorStore& selectors,
                                      Deliver&& deliver) {
  std::size_t reached = 0;
  for (const auto& topic : update.topics) {
    if (auto it = exact_.find(topic); it != exact_.end())
      reached += offer(it->second, update, selectors, deliver);
  }
  for (const auto& topic : update.topics) {
    for (const auto& [length, count] : prefix_lengths_) {
      if (length > topic.size()) break;
      auto it = patterns_by_prefix_.find(topic.substr(0, length));
      if (it == patterns_by_prefix_.end()) continue;
      for (const auto& [selector, bucket] : it->second) {
        // Subscribers already reached through another topic are skipped by their sequence.
        if (selectors.matches(topic, selector))
          reached += offer(bucket, update, selectors, deliver);
      }
    }
  }
  return reached;
}

}  // namespace hub
