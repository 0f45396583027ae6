#include "subscriber_index.h"

#include "uri_template.h"

namespace hub {
namespace {

bool is_pattern(const std::string& selector) {
  return selector == "*" || looks_like_uri_template(selector);
}

// The literal text every topic matching the selector starts with ("" for "*").
std::string literal_prefix(const std::string& selector) {
  if (selector == "*") return "";
  return selector.substr(0, selector.find('{'));
}

}  // namespace

void SubscriberIndex::add(Subscriber* subscriber) {
  for (const auto& selector : subscriber->topics) {
    if (!is_pattern(selector)) {
      exact_[selector].insert(subscriber);
      continue;
    }
    const std::string prefix = literal_prefix(selector);
    Patterns& patterns = patterns_by_prefix_[prefix];
    auto [it, created] = patterns.try_emplace(selector);
    if (created) ++prefix_lengths_[prefix.size()];
    it->second.insert(subscriber);
  }
  ++count_;
}

void SubscriberIndex::remove(Subscriber* subscriber) {
  for (const auto& selector : subscriber->topics) {
    if (!is_pattern(selector)) {
      if (auto it = exact_.find(selector); it != exact_.end()) {
        it->second.erase(subscriber);
        if (it->second.empty()) exact_.erase(it);
      }
      continue;
    }
    const std::string prefix = literal_prefix(selector);
    auto group = patterns_by_prefix_.find(prefix);
    if (group == patterns_by_prefix_.end()) continue;
    auto it = group->second.find(selector);
    if (it == group->second.end()) continue;
    it->second.erase(subscriber);
    if (!it->second.empty()) continue;
    group->second.erase(it);
    if (group->second.empty()) patterns_by_prefix_.erase(group);
    if (auto length = prefix_lengths_.find(prefix.size());
        length != prefix_lengths_.end() && --length->second == 0) {
      prefix_lengths_.erase(length);
    }
  }
  --count_;
}

}  // namespace hub
