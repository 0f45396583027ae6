#include "app_config.h"

#include "shared/aws/secret_settings.h"

namespace app {

AppConfig read_app_config(const shared::ConfigSource& raw_source) {
  // <NAME>_SECRET_ARN: keys from Secrets Manager (shared/aws/secret_settings.h).
  const shared::ConfigSource source =
      shared::aws::resolve_secret_settings(raw_source, {"MERCURE_SUBSCRIBER_JWT_KEY"});
  using std::chrono::milliseconds;
  using std::chrono::seconds;
  AppConfig c;
  c.log = shared::read_log_config(source);
  c.server = shared::http::read_server_config(source, "APP", "0.0.0.0:8080");

  c.agent_url = source.url("APP_AGENT_URL", c.agent_url);
  while (!c.agent_url.empty() && c.agent_url.back() == '/') c.agent_url.pop_back();
  c.agent_connect_timeout = source.duration("APP_AGENT_CONNECT_TIMEOUT", c.agent_connect_timeout,
                                            milliseconds(50), seconds(60));
  c.agent_timeout = source.duration("APP_AGENT_TIMEOUT", c.agent_timeout, milliseconds(100), seconds(600));

  c.hub_upstream = source.url("APP_HUB_UPSTREAM", c.hub_upstream);
  while (!c.hub_upstream.empty() && c.hub_upstream.back() == '/') c.hub_upstream.pop_back();
  c.hub_route = source.boolean("APP_HUB_ROUTE", c.hub_route);
  c.hub_max_streams = static_cast<std::size_t>(source.integer("APP_HUB_MAX_STREAMS", 64, 1, 4096));
  c.hub_stall_timeout = source.duration("APP_HUB_STALL_TIMEOUT", c.hub_stall_timeout, seconds(1), seconds(3600));
  c.hub_keepalive = source.duration("APP_HUB_KEEPALIVE", c.hub_keepalive, milliseconds(50), seconds(300));
  c.relay_buffer_bytes = source.size("APP_RELAY_BUFFER", c.relay_buffer_bytes, 4096, 64ull * 1024 * 1024);

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
      throw shared::ConfigError("APP_OIDC_KEYS_DIR", "APP_AUTH=alb-oidc needs APP_OIDC_KEYS_DIR or APP_OIDC_KEYS_URL");
  }
  c.oidc_key_cache = static_cast<std::size_t>(source.integer("APP_OIDC_KEY_CACHE", 64, 1, 10'000));

  c.allowed_origins = source.list("APP_ALLOWED_ORIGINS", {});
  for (auto& origin : c.allowed_origins) {
    while (!origin.empty() && origin.back() == '/') origin.pop_back();
    if (origin.rfind("http://", 0) != 0 && origin.rfind("https://", 0) != 0)
      throw shared::ConfigError("APP_ALLOWED_ORIGINS", "each origin must start with http:// or https://: " + origin);
  }
  // APP_AUTH=none is the local run, on plain http: a Secure cookie would not be stored there.
  c.cookie_secure = source.boolean("APP_COOKIE_SECURE", c.auth != "none");
  c.hsts = source.boolean("APP_HSTS", c.hsts);

  c.subscriber_key = source.string("MERCURE_SUBSCRIBER_JWT_KEY", "");
  c.subscriber_cookie_ttl = std::chrono::duration_cast<seconds>(
      source.duration("APP_SUBSCRIBER_COOKIE_TTL", c.subscriber_cookie_ttl, seconds(60), std::chrono::hours(24)));

  c.rate_per_minute = static_cast<double>(source.integer("APP_RATE_LIMIT_PER_MINUTE", 240, 1, 1'000'000));
  c.rate_burst = static_cast<double>(source.integer("APP_RATE_LIMIT_BURST", 60, 1, 1'000'000));
  c.rate_max_users = static_cast<std::size_t>(source.integer("APP_RATE_LIMIT_MAX_USERS", 100'000, 10, 10'000'000));
  return c;
}

}  // namespace app
