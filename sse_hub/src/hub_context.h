// What every connection of the hub shares: settings, the update bus, authorizers, the
// subscription registry and metrics. Built once by HubServer; thread-safe parts only.
#pragma once

#include <atomic>
#include <functional>

#include "authorization.h"
#include "hub_config.h"
#include "hub_metrics.h"
#include "subscription_registry.h"
#include "update.h"
#include "update_bus.h"

namespace hub {

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
  // Accepts an update from this hub: straight to the bus, or through Redis when scaled out.
  std::function<void(Update)> publish;
};

// Publishes the JSON-LD subscription events of a subscriber that came or went (when
// HUB_SUBSCRIPTIONS is on): one private update per subscribed topic.
void announce_subscription(HubContext& hub, const SubscriptionInfo& info, bool active);

}  // namespace hub
