// The hub's Prometheus metrics, registered once. Hot paths count per event loop and per update
// (not per subscriber) so that a fan-out to 50k subscribers costs one atomic add.
#pragma once

#include "shared/metrics.h"

namespace hub {

struct HubMetrics {
  explicit HubMetrics(shared::MetricsRegistry& r)
      : connections(r.gauge("hub_connections", "Open TCP connections")),
        subscribers(r.gauge("hub_subscribers", "Open event streams")),
        published(r.counter("hub_updates_published_total", "Updates accepted from publishers")),
        delivered(r.counter("hub_updates_delivered_total",
                            "Updates queued to subscribers (one per subscriber)")),
        dropped_slow(r.counter("hub_subscribers_dropped_total", "Subscribers dropped",
                               {{"reason", "queue_full"}})),
        dropped_write_timeout(r.counter("hub_subscribers_dropped_total", "Subscribers dropped",
                                        {{"reason", "write_timeout"}})),
        expired(r.counter("hub_subscribers_expired_total", "Streams closed at their token's exp")),
        refused(r.counter("hub_connections_refused_total",
                          "Connections refused past HUB_MAX_CONNECTIONS")),
        unauthorized(r.counter("hub_unauthorized_total", "Requests refused with 401")),
        history_size(r.gauge("hub_history_size", "Updates held in the history")),
        history_bytes(
            r.gauge("hub_history_bytes",
                    "Memory held by the history's updates (HUB_HISTORY_BYTES bounds it)")),
        dispatch_latency(
            r.histogram("hub_dispatch_latency_seconds",
                        "From accepting an update to queueing it on an event loop's subscribers",
                        {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                         0.1, 0.25, 0.5, 1, 2.5})) {}

  shared::Gauge& connections;
  shared::Gauge& subscribers;
  shared::Counter& published;
  shared::Counter& delivered;
  shared::Counter& dropped_slow;
  shared::Counter& dropped_write_timeout;
  shared::Counter& expired;
  shared::Counter& refused;
  shared::Counter& unauthorized;
  shared::Gauge& history_size;
  shared::Gauge& history_bytes;
  shared::Histogram& dispatch_latency;
};

}  // namespace hub
