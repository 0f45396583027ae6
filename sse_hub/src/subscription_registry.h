// The hub's active subscriptions, for the subscriptions API and the JSON-LD subscription events
// (Mercure "active subscriptions"). Thread-safe; touched only when subscribers come and go.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace hub {

inline constexpr std::string_view kSubscriptionsPath = "/.well-known/mercure/subscriptions";
inline constexpr std::string_view kJsonLdContext = "https://mercure.rocks/";

struct SubscriptionInfo {
  std::string subscriber;                         // urn:uuid:...
  std::vector<std::string> topics;                // as subscribed
  std::shared_ptr<const nlohmann::json> payload;  // mercure.payload, may be null
};

// "/.well-known/mercure/subscriptions/{topic}/{subscriber}", both query-escaped.
std::string subscription_id(const std::string& topic, const std::string& subscriber);

// One subscription as JSON-LD; with_context adds "@context" (events and single lookups do).
nlohmann::ordered_json subscription_json(const SubscriptionInfo& info, const std::string& topic,
                                         bool active, bool with_context);

class SubscriptionRegistry {
 public:
  void add(std::shared_ptr<const SubscriptionInfo> info);
  void remove(const std::string& subscriber);
  std::vector<std::shared_ptr<const SubscriptionInfo>> snapshot() const;
  std::size_t size() const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::shared_ptr<const SubscriptionInfo>> by_subscriber_;
};

}  // namespace hub
