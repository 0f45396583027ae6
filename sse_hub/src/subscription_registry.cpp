#include "subscription_registry.h"

#include "url_form.h"

namespace hub {

std::string subscription_id(const std::string& topic, const std::string& subscriber) {
  return std::string(kSubscriptionsPath) + "/" + query_escape(topic) + "/" +
         query_escape(subscriber);
}

nlohmann::ordered_json subscription_json(const SubscriptionInfo& info, const std::string& topic,
                                         bool active, bool with_context) {
  nlohmann::ordered_json j;
  if (with_context) j["@context"] = kJsonLdContext;
  j["id"] = subscription_id(topic, info.subscriber);
  j["type"] = "Subscription";
  j["subscriber"] = info.subscriber;
  j["topic"] = topic;
  j["active"] = active;
  if (info.payload && !info.payload->is_null()) j["payload"] = *info.payload;
  return j;
}

void SubscriptionRegistry::add(std::shared_ptr<const SubscriptionInfo> info) {
  std::lock_guard lock(mutex_);
  const std::string key = info->subscriber;
  by_subscriber_[key] = std::move(info);
}

void SubscriptionRegistry::remove(const std::string& subscriber) {
  std::lock_guard lock(mutex_);
  by_subscriber_.erase(subscriber);
}

std::vector<std::shared_ptr<const SubscriptionInfo>> SubscriptionRegistry::snapshot() const {
  std::lock_guard lock(mutex_);
  std::vector<std::shared_ptr<const SubscriptionInfo>> out;
  out.reserve(by_subscriber_.size());
  for (const auto& [id, info] : by_subscriber_) out.push_back(info);
  return out;
}

std::size_t SubscriptionRegistry::size() const {
  std::lock_guard lock(mutex_);
  return by_subscriber_.size();
}

}  // namespace hub
