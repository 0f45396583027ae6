#include "topic_selector_store.h"

namespace hub {

const UriTemplate* TopicSelectorStore::template_for(const std::string& selector) {
  if (auto it = templates_.find(selector); it != templates_.end()) return it->second.get();
  if (templates_.size() >= capacity_) templates_.clear();
  std::unique_ptr<UriTemplate> parsed;
  if (auto t = UriTemplate::parse(selector)) parsed = std::make_unique<UriTemplate>(std::move(*t));
  return templates_.emplace(selector, std::move(parsed)).first->second.get();
}

bool TopicSelectorStore::matches(std::string_view topic, const std::string& selector) {
  if (selector == "*" || selector == topic) return true;
  if (!looks_like_uri_template(selector)) return false;
  // Length-prefixed so that no (selector, topic) pair can collide with another.
  std::string key = std::to_string(selector.size());
  key += ':';
  key += selector;
  key += topic;
  if (auto it = results_.find(key); it != results_.end()) return it->second;
  const UriTemplate* t = template_for(selector);
  const bool matched = t != nullptr && t->matches(topic);
  if (results_.size() >= capacity_) results_.clear();
  results_.emplace(std::move(key), matched);
  return matched;
}

bool TopicSelectorStore::any_matches(const std::vector<std::string>& topics,
                                     const std::vector<std::string>& selectors) {
  for (const auto& selector : selectors) {
    for (const auto& topic : topics) {
      if (matches(topic, selector)) return true;
    }
  }
  return false;
}

}  // namespace hub
