// The hub's settings (DESIGN §3 and the sse_hub README section), read and validated in one place
// into a typed struct that the rest of the hub receives.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "access_log.h"
#include "shared/config.h"
#include "shared/jwt.h"

namespace hub {

struct HubConfig {
  shared::LogConfig log;
  shared::ListenAddress listen;  // HUB_LISTEN
  std::size_t threads = 1;       // HUB_THREADS: event loops (default: cores)

  // Authorization. Empty key lists mean "no key configured": every token is refused.
  std::vector<shared::jwt::Key> publisher_keys;      // MERCURE_PUBLISHER_JWT_KEY / _ALG
  std::vector<shared::jwt::Key> subscriber_keys;     // MERCURE_SUBSCRIBER_JWT_KEY / _ALG
  bool anonymous = false;                            // MERCURE_ANONYMOUS
  std::chrono::seconds jwt_leeway{5};                // HUB_JWT_LEEWAY (on exp and nbf)
  std::string cookie_name = "mercureAuthorization";  // HUB_COOKIE_NAME
  std::vector<std::string> cors_origins;             // HUB_CORS_ORIGINS ("*" = any)
  std::vector<std::string> publish_origins;          // HUB_PUBLISH_ORIGINS (cookie POSTs)

  // Protocol.
  std::chrono::milliseconds heartbeat{40'000};  // HUB_HEARTBEAT (0 = off)
  std::size_t history_size = 10'000;            // HUB_HISTORY_SIZE (0 = no history)
  std::size_t history_bytes = 64 << 20;         // HUB_HISTORY_BYTES (what those updates weigh)
  bool subscriptions = false;                   // HUB_SUBSCRIPTIONS

  // Limits.
  std::size_t max_connections = 100'000;            // HUB_MAX_CONNECTIONS
  std::size_t max_topics = 100;                     // HUB_MAX_TOPICS (per subscribe or publish)
  std::size_t max_update_bytes = 1024 * 1024;       // HUB_MAX_UPDATE_SIZE (publish body)
  std::size_t max_header_bytes = 16 * 1024;         // HUB_MAX_HEADER_BYTES
  std::size_t subscriber_queue = 10'000;            // HUB_SUBSCRIBER_QUEUE (events queued)
  std::size_t subscriber_queue_bytes = 16 << 20;    // HUB_SUBSCRIBER_QUEUE_BYTES (their bytes)
  std::chrono::milliseconds write_timeout{15'000};  // HUB_WRITE_TIMEOUT
  std::chrono::milliseconds read_timeout{15'000};   // HUB_READ_TIMEOUT (one request)
  std::chrono::milliseconds idle_timeout{30'000};   // HUB_IDLE_TIMEOUT (keep-alive, no request)
  std::chrono::milliseconds drain_timeout{5'000};   // HUB_DRAIN_TIMEOUT
  std::size_t selector_cache = 10'000;              // HUB_SELECTOR_CACHE (entries per event loop)
  std::size_t selector_cache_bytes = 16 << 20;      // HUB_SELECTOR_CACHE_BYTES (their keys' bytes)

  // Operations.
  AccessLog access_log = AccessLog::kErrors;  // HUB_ACCESS_LOG: errors|all|off

  // Scale-out.
  std::string redis_url;                           // HUB_REDIS_URL (empty = single hub)
  std::string redis_channel = "mercure";           // HUB_REDIS_CHANNEL (stream: <channel>:history)
  std::chrono::milliseconds redis_timeout{2'000};  // HUB_REDIS_TIMEOUT
  std::size_t redis_queue = 1'000;                 // HUB_REDIS_QUEUE (updates waiting for Redis)
  std::size_t redis_queue_bytes = 64 << 20;        // HUB_REDIS_QUEUE_BYTES (their bytes)
};

// Throws shared::ConfigError naming the setting.
HubConfig read_hub_config(const shared::ConfigSource& source);

}  // namespace hub
