#include "app_config.h"

#include <algorithm>
#include <thread>

#include "shared/aws/secret_settings.h"

namespace app {
namespace {

ServerSettings read_server_settings(const shared::ConfigSource& source) {
  using std::chrono::milliseconds;
  using std::chrono::seconds;
  ServerSettings s;
  s.listen = source.listen("APP_LISTEN", "0.0.0.0:8080");
  const auto cores = static_cast<std::int64_t>(std::max(1u, std::thread::hardware_concurrency()));
  s.event_loops = static_cast<std::size_t>(source.integer("APP_THREADS", cores, 1, 256));
  s.max_connections =
      static_cast<std::size_t>(source.integer("APP_MAX_CONNECTIONS", 10'000, 1, 1'000'000));
  s.max_body_bytes = source.size("APP_MAX_BODY", s.max_body_bytes, 1024, 1024ull * 1024 * 1024);
  s.max_header_bytes = source.size("APP_MAX_HEADER_BYTES", s.max_header_bytes, 1024, 1024 * 1024);
  s.max_header_count = static_cast<std::size_t>(source.integer("APP_MAX_HEADERS", 64, 8, 1000));
  s.read_timeout = source.duration("APP_READ_TIMEOUT", s.read_timeout, milliseconds(100),
                                   std::chrono::minutes(10));
  s.write_timeout = source.duration("APP_WRITE_TIMEOUT", s.write_timeout, milliseconds(100),
                                    std::chrono::minutes(10));
  s.keep_alive_timeout = source.duration("APP_KEEP_ALIVE_TIMEOUT", s.keep_alive_timeout,
                                         milliseconds(100), std::chrono::hours(1));
  s.drain_timeout = source.duration("APP_DRAIN_TIMEOUT", s.drain_timeout, milliseconds(0),
                                    std::chrono::minutes(10));
  return s;
}

}  // namespace

AppConfig read_app_config(const shared::ConfigSource& raw_source) {
  // <NAME>_SECRET_ARN: keys from Secrets Manager (shared/aws/secret_settings.h).
  const shared::ConfigSource source =
      shared::aws::resolve_secret_settings(raw_source, {"MERCURE_SUBSCRIBER_JWT_KEY"});
  using std::chrono::milliseconds;
  using std::chrono::seconds;
  AppConfig c;
  c.log = shared::read_log_config(source);
  c.server = read_server_settings(source);

  c.agent =
      parse_upstream_url("APP_AGENT_URL", source.string("APP_AGENT_URL", "http://127.0.0.1:8000"));
  c.agent_connect_timeout = source.duration("APP_AGENT_CONNECT_TIMEOUT", c.agent_connect_timeout,
                                            milliseconds(50), seconds(60));
  c.agent_timeout =
      source.duration("APP_AGENT_TIMEOUT", c.agent_timeout, milliseconds(100), seconds(600));
  c.upstream_idle_connections =
      static_cast<std::size_t>(source.integer("APP_UPSTREAM_IDLE", 16, 0, 1024));

  c.hub = parse_upstream_url("APP_HUB_UPSTREAM",
                             source.string("APP_HUB_UPSTREAM", "http://127.0.0.1:3701"));
  c.hub_route = source.boolean("APP_HUB_ROUTE", c.hub_route);
  c.hub_max_streams =
      static_cast<std::size_t>(source.integer("APP_HUB_MAX_STREAMS", 1024, 1, 100'000));
  c.hub_max_streams_per_user =
      static_cast<std::size_t>(source.integer("APP_HUB_MAX_STREAMS_PER_USER", 16, 1, 100'000));
  c.hub_stall_timeout =
      source.duration("APP_HUB_STALL_TIMEOUT", c.hub_stall_timeout, seconds(1), seconds(3600));
  c.hub_keepalive =
      source.duration("APP_HUB_KEEPALIVE", c.hub_keepalive, milliseconds(50), seconds(300));
  c.relay_buffer_bytes =
      source.size("APP_RELAY_BUFFER", c.relay_buffer_bytes, 4096, 64ull * 1024 * 1024);

  c.auth = source.one_of("APP_AUTH", "none", {"none", "alb-oidc", "token"});
  c.local_user = source.string("APP_LOCAL_USER", c.local_user);
  if (c.local_user.empty() || c.local_user.size() > 128)
    throw shared::ConfigError("APP_LOCAL_USER", "must be 1 to 128 characters");
  if (c.auth == "token") {
    c.token_file = source.required_string("APP_TOKEN_FILE");
  }
  if (c.auth == "alb-oidc") {
    c.oidc_signer_arn = source.required_string("APP_OIDC_SIGNER_ARN");
    c.oidc_keys_dir = source.string("APP_OIDC_KEYS_DIR", "");
    c.oidc_keys_url = source.string("APP_OIDC_KEYS_URL", "");
    if (!c.oidc_keys_url.empty()) c.oidc_keys_url = source.url("APP_OIDC_KEYS_URL", "");
    while (!c.oidc_keys_url.empty() && c.oidc_keys_url.back() == '/') c.oidc_keys_url.pop_back();
    if (c.oidc_keys_dir.empty() && c.oidc_keys_url.empty())
      throw shared::ConfigError("APP_OIDC_KEYS_DIR",
                                "APP_AUTH=alb-oidc needs APP_OIDC_KEYS_DIR or APP_OIDC_KEYS_URL");
  }
  c.oidc_key_cache = static_cast<std::size_t>(source.integer("APP_OIDC_KEY_CACHE", 64, 1, 10'000));

  c.allowed_origins = source.list("APP_ALLOWED_ORIGINS", {});
  for (auto& origin : c.allowed_origins) {
    while (!origin.empty() && origin.back() == '/') origin.pop_back();
    if (origin.rfind("http://", 0) != 0 && origin.rfind("https://", 0) != 0)
      throw shared::ConfigError("APP_ALLOWED_ORIGINS",
                                "each origin must start with http:// or https://: " + origin);
  }
  // APP_AUTH=none is the local run, on plain http: a Secure cookie would not be stored there.
  c.cookie_secure = source.boolean("APP_COOKIE_SECURE", c.auth != "none");
  c.hsts = source.boolean("APP_HSTS", c.hsts);

  c.subscriber_key = source.string("MERCURE_SUBSCRIBER_JWT_KEY", "");
  c.subscriber_cookie_ttl = std::chrono::duration_cast<seconds>(source.duration(
      "APP_SUBSCRIBER_COOKIE_TTL", c.subscriber_cookie_ttl, seconds(60), std::chrono::hours(24)));

  c.rate_per_minute =
      static_cast<double>(source.integer("APP_RATE_LIMIT_PER_MINUTE", 240, 1, 1'000'000));
  c.rate_burst = static_cast<double>(source.integer("APP_RATE_LIMIT_BURST", 60, 1, 1'000'000));
  c.rate_max_users =
      static_cast<std::size_t>(source.integer("APP_RATE_LIMIT_MAX_USERS", 100'000, 10, 10'000'000));
  return c;
}

}  // namespace app
