// What every connection of the hub shares: settings, the update bus, authorizers, the
// subscription registry and metrics. Built once by HubServer; thread-safe parts only.
#pragma once

#include <atomic>

#include "authorization.h"
#include "hub_config.h"
#include "hub_metrics.h"
#include "subscription_registry.h"
#include "update.h"
#include "update_bus.h"

namespace hub {

class RedisBridge;

struct HubContext {
  HubContext(const HubConfig& c, UpdateBus& b, HubMetrics& m, shared::MetricsRegistry& r)
      : config(c),
        bus(b),
        metrics(m),
        registry(r),
        publisher(c.publisher_keys, c.cookie_name, c.publish_origins, c.jwt_leeway),
        subscriber(c.subscriber_keys, c.cookie_name, c.publish_origins, c.jwt_leeway) {}

  const HubConfig& config;
  UpdateBus& bus;
  HubMetrics& metrics;
  shared::MetricsRegistry& registry;
  Authorizer publisher;
  Authorizer subscriber;
  SubscriptionRegistry subscriptions;
  std::atomic<std::size_t> connections{0};
  std::atomic<bool> stopping{false};
  // Scaled out (HUB_REDIS_URL): this hub's updates go to Redis, and reach the bus (this hub's
  // and the others') from there. Null for a single hub, whose updates go straight to the bus.
  RedisBridge* redis = nullptr;
};

// Publishes the JSON-LD subscription events of a subscriber that came or went (when
// HUB_SUBSCRIPTIONS is on): one private update per subscribed topic.
void announce_subscription(HubContext& hub, const SubscriptionInfo& info, bool active);

}  // namespace hub
