// Decides whether a topic matches a topic selector (an exact topic, "*", or an RFC 6570 URI
// template), caching parsed templates and match results. One store per event loop: it is not
// thread-safe, so each loop keeps its own and never locks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "uri_template.h"

namespace hub {

class TopicSelectorStore {
 public:
  // Both caches hold at most cache_capacity entries (HUB_SELECTOR_CACHE) and cache_bytes of keys
  // (HUB_SELECTOR_CACHE_BYTES); a full cache is emptied and refilled.
  explicit TopicSelectorStore(std::size_t cache_capacity, std::size_t cache_bytes = SIZE_MAX)
      : capacity_(cache_capacity), max_bytes_(cache_bytes) {}

  bool matches(std::string_view topic, const std::string& selector);
  // True when any topic matches any selector.
  bool any_matches(const std::vector<std::string>& topics,
                   const std::vector<std::string>& selectors);

  std::size_t cached_results() const { return results_.size(); }
  std::size_t cached_bytes() const { return result_bytes_ + template_bytes_; }

 private:
  // The parsed template (nullptr: not a valid one). One too large for the cache is parsed into
  // `uncached`, which must outlive the use of the result.
  const UriTemplate* template_for(const std::string& selector,
                                  std::unique_ptr<UriTemplate>& uncached);

  // A (selector, topic) result, found without building a key: lookups hash the two views.
  struct Key {
    std::string selector;
    std::string topic;
  };
  struct KeyView {
    std::string_view selector;
    std::string_view topic;
  };
  struct KeyHash {
    using is_transparent = void;
    std::size_t operator()(KeyView k) const;
    std::size_t operator()(const Key& k) const { return (*this)(KeyView{k.selector, k.topic}); }
  };
  struct KeyEqual {
    using is_transparent = void;
    static KeyView view(const Key& k) { return {k.selector, k.topic}; }
    static KeyView view(KeyView k) { return k; }
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      return view(a).selector == view(b).selector && view(a).topic == view(b).topic;
    }
  };

  std::size_t capacity_;
  std::size_t max_bytes_;
  // nullptr value: the selector is not a valid template and only matches itself.
  std::unordered_map<std::string, std::unique_ptr<UriTemplate>> templates_;
  std::size_t template_bytes_ = 0;
  std::unordered_map<Key, bool, KeyHash, KeyEqual> results_;
  std::size_t result_bytes_ = 0;
};

}  // namespace hub
