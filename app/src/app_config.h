// The app's settings (DESIGN §3 and issue 6), read and validated in one place into one struct that
// the rest of the app receives; nothing else reads the environment.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "shared/config.h"
#include "upstream_url.h"

namespace app {

// The HTTP server's own limits and timeouts.
struct ServerSettings {
  shared::ListenAddress listen;              // APP_LISTEN
  std::size_t event_loops = 1;               // APP_THREADS: event loops (default: cores)
  std::size_t max_connections = 10'000;      // APP_MAX_CONNECTIONS: open client connections
  std::size_t max_body_bytes = 1024 * 1024;  // APP_MAX_BODY: request body
  std::size_t max_header_bytes = 16 * 1024;  // APP_MAX_HEADER_BYTES: request line + headers
  std::size_t max_header_count = 64;         // APP_MAX_HEADERS
  std::chrono::milliseconds read_timeout{
      15'000};  // APP_READ_TIMEOUT: first byte to end of head (and the body after it)
  std::chrono::milliseconds write_timeout{15'000};  // APP_WRITE_TIMEOUT: one write to the client
  std::chrono::milliseconds keep_alive_timeout{
      65'000};                                      // APP_KEEP_ALIVE_TIMEOUT: idle between requests
  std::chrono::milliseconds drain_timeout{20'000};  // APP_DRAIN_TIMEOUT: graceful stop
};

struct AppConfig {
  shared::LogConfig log;
  ServerSettings server;

  UpstreamUrl agent{"127.0.0.1", 8000, ""};  // APP_AGENT_URL (plain http)
  std::chrono::milliseconds agent_connect_timeout{
      2'000};                                       // APP_AGENT_CONNECT_TIMEOUT (agent and hub)
  std::chrono::milliseconds agent_timeout{30'000};  // APP_AGENT_TIMEOUT: one whole API exchange
  std::size_t upstream_idle_connections = 16;       // APP_UPSTREAM_IDLE: kept per upstream per loop

  UpstreamUrl hub{"127.0.0.1", 3701, ""};     // APP_HUB_UPSTREAM (plain http)
  bool hub_route = true;                      // APP_HUB_ROUTE: serve /.well-known/mercure*
  std::size_t hub_max_streams = 1024;         // APP_HUB_MAX_STREAMS: open hub streams at once
  std::size_t hub_max_streams_per_user = 16;  // APP_HUB_MAX_STREAMS_PER_USER (or per address)
  std::chrono::milliseconds hub_stall_timeout{
      90'000};                                      // APP_HUB_STALL_TIMEOUT: no byte from the hub
  std::chrono::milliseconds hub_keepalive{10'000};  // APP_HUB_KEEPALIVE: comment to idle clients
  std::size_t relay_buffer_bytes = 1024 * 1024;     // APP_RELAY_BUFFER: per-exchange buffer bound

  std::string auth = "none";         // APP_AUTH: none|alb-oidc|token
  std::string local_user = "local";  // APP_LOCAL_USER: the one user of APP_AUTH=none
  std::string token_file;            // APP_TOKEN_FILE: "user_id token" lines (APP_AUTH=token)
  std::string oidc_signer_arn;       // APP_OIDC_SIGNER_ARN: the ALB's ARN (APP_AUTH=alb-oidc)
  std::string oidc_keys_dir;         // APP_OIDC_KEYS_DIR: <kid>.pem public keys
  std::string oidc_keys_url;         // APP_OIDC_KEYS_URL: base URL serving <kid> as PEM
  std::size_t oidc_key_cache =
      64;  // APP_OIDC_KEY_CACHE: keys kept in memory (and unknown kids remembered)

  std::vector<std::string> allowed_origins;  // APP_ALLOWED_ORIGINS; empty = the request's own host
  bool cookie_secure = true;  // APP_COOKIE_SECURE: default on, off with APP_AUTH=none
  bool hsts = false;          // APP_HSTS: always send HSTS (also sent behind https)

  std::string subscriber_key;                        // MERCURE_SUBSCRIBER_JWT_KEY (HS256 secret)
  std::chrono::seconds subscriber_cookie_ttl{3600};  // APP_SUBSCRIBER_COOKIE_TTL

  double rate_per_minute = 240;          // APP_RATE_LIMIT_PER_MINUTE (per user, /api)
  double rate_burst = 60;                // APP_RATE_LIMIT_BURST
  std::size_t rate_max_users = 100'000;  // APP_RATE_LIMIT_MAX_USERS: tracked users bound
};

// Throws shared::ConfigError naming the first bad setting.
AppConfig read_app_config(const shared::ConfigSource& source);

}  // namespace app
