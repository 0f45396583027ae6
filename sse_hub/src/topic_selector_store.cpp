#include "topic_selector_store.h"

#include <functional>

namespace hub {

std::size_t TopicSelectorStore::KeyHash::operator()(KeyView k) const {
  std::size_t h = std::hash<std::string_view>{}(k.selector);
  h ^= std::hash<std::string_view>{}(k.topic) + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
  return h;
}

const UriTemplate* TopicSelectorStore::template_for(const std::string& selector,
                                                    std::unique_ptr<UriTemplate>& uncached) {
  if (auto it = templates_.find(selector); it != templates_.end()) return it->second.get();
  std::unique_ptr<UriTemplate> parsed;
  if (auto t = UriTemplate::parse(selector)) parsed = std::make_unique<UriTemplate>(std::move(*t));
  // The key and the parsed parts, which hold about as much text again.
  const std::size_t weight = 2 * selector.size();
  if (weight > max_bytes_) {  // too large to keep: it lives as long as the caller's holder
    uncached = std::move(parsed);
    return uncached.get();
  }
  if (templates_.size() >= capacity_ || template_bytes_ + weight > max_bytes_) {
    templates_.clear();
    template_bytes_ = 0;
  }
  template_bytes_ += weight;
  return templates_.emplace(selector, std::move(parsed)).first->second.get();
}

bool TopicSelectorStore::matches(std::string_view topic, const std::string& selector) {
  if (selector == "*" || selector == topic) return true;
  if (!looks_like_uri_template(selector)) return false;
  // A template never matches a topic this long (UriTemplate bounds its work), so such topics
  // neither cost a match nor reach the cache.
  if (topic.size() > UriTemplate::kMaxMatchLength) return false;
  if (auto it = results_.find(KeyView{selector, topic}); it != results_.end()) return it->second;
  std::unique_ptr<UriTemplate> uncached;
  const UriTemplate* t = template_for(selector, uncached);
  const bool matched = t != nullptr && t->matches(topic);
  const std::size_t weight = selector.size() + topic.size();
  if (weight > max_bytes_) return matched;
  if (results_.size() >= capacity_ || result_bytes_ + weight > max_bytes_) {
    results_.clear();
    result_bytes_ = 0;
  }
  result_bytes_ += weight;
  results_.emplace(Key{selector, std::string(topic)}, matched);
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
