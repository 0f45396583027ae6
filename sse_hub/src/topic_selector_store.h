// Decides whether a topic matches a topic selector (an exact topic, "*", or an RFC 6570 URI
// template), caching parsed templates and match results. One store per event loop: it is not
// thread-safe, so each loop keeps its own and never locks.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "uri_template.h"

namespace hub {

class TopicSelectorStore {
 public:
  // cache_capacity bounds both caches (entries); a full cache is emptied and refilled.
  explicit TopicSelectorStore(std::size_t cache_capacity) : capacity_(cache_capacity) {}

  bool matches(std::string_view topic, const std::string& selector);
  // True when any topic matches any selector.
  bool any_matches(const std::vector<std::string>& topics, const std::vector<std::string>& selectors);

  std::size_t cached_results() const { return results_.size(); }

 private:
  const UriTemplate* template_for(const std::string& selector);

  std::size_t capacity_;
  // nullptr value: the selector is not a valid template and only matches itself.
  std::unordered_map<std::string, std::unique_ptr<UriTemplate>> templates_;
  std::unordered_map<std::string, bool> results_;
};

}  // namespace hub
