#include "subscriber_index.h"

#include "uri_template.h"

namespace hub {
namespace {

bool is_pattern(const std::string& selector) { return selector == "*" || looks_like_uri_template(selector); }

}  // namespace

void SubscriberIndex::add(Subscriber* subscriber) {
  for (const auto& selector : subscriber->topics) {
    (is_pattern(selector) ? patterns_ : exact_)[selector].insert(subscriber);
  }
  ++count_;
}

void SubscriberIndex::remove(Subscriber* subscriber) {
  for (const auto& selector : subscriber->topics) {
    auto& map = is_pattern(selector) ? patterns_ : exact_;
    if (auto it = map.find(selector); it != map.end()) {
      it->second.erase(subscriber);
      if (it->second.empty()) map.erase(it);
    }
  }
  --count_;
}

}  // namespace hub
