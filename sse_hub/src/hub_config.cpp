#include "hub_config.h"

#include <thread>

#include "redis_connection.h"
#include "shared/aws/secret_settings.h"

namespace hub {
namespace {

// PEM keys in environment variables are often written with literal "\n": accept both forms.
std::string unescape_newlines(std::string text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 1 < text.size() && text[i + 1] == 'n') {
      out += '\n';
      ++i;
    } else {
      out += text[i];
    }
  }
  return out;
}

std::vector<shared::jwt::Key> read_keys(const shared::ConfigSource& source,
                                        const std::string& role) {
  const std::string key_name = "MERCURE_" + role + "_JWT_KEY";
  const std::string alg_name = "MERCURE_" + role + "_JWT_ALG";
  std::string material = source.string(key_name, source.string("MERCURE_JWT_KEY", ""));
  const std::string alg = source.one_of(
      alg_name, source.one_of("MERCURE_JWT_ALG", "HS256", {"HS256", "RS256", "ES256"}),
      {"HS256", "RS256", "ES256"});
  if (material.empty()) return {};
  const auto algorithm = *shared::jwt::parse_algorithm(alg);
  if (algorithm != shared::jwt::Algorithm::kHS256) {
    material = unescape_newlines(material);
    if (material.find("-----BEGIN") == std::string::npos) {
      throw shared::ConfigError(key_name, alg + " needs a PEM public key");
    }
  }
  shared::jwt::Key key{algorithm, material, ""};
  try {
    shared::jwt::check_key(key);
  } catch (const shared::jwt::JwtError& e) {
    throw shared::ConfigError(key_name, e.what());
  }
  return {key};
}

}  // namespace

HubConfig read_hub_config(const shared::ConfigSource& raw_source) {
  // <NAME>_SECRET_ARN: keys from Secrets Manager (shared/aws/secret_settings.h).
  const shared::ConfigSource source = shared::aws::resolve_secret_settings(
      raw_source, {"MERCURE_PUBLISHER_JWT_KEY", "MERCURE_SUBSCRIBER_JWT_KEY"});
  using std::chrono::milliseconds;
  HubConfig c;
  c.log = shared::read_log_config(source);
  c.listen = source.listen("HUB_LISTEN", "0.0.0.0:3701");
  const auto cores = std::max(1u, std::thread::hardware_concurrency());
  c.threads = static_cast<std::size_t>(source.integer("HUB_THREADS", cores, 1, 256));

  c.publisher_keys = read_keys(source, "PUBLISHER");
  c.subscriber_keys = read_keys(source, "SUBSCRIBER");
  c.anonymous = source.boolean("MERCURE_ANONYMOUS", false);
  c.jwt_leeway = std::chrono::duration_cast<std::chrono::seconds>(
      source.duration("HUB_JWT_LEEWAY", c.jwt_leeway, milliseconds(0), std::chrono::hours(1)));
  c.cookie_name = source.string("HUB_COOKIE_NAME", c.cookie_name);
  if (c.cookie_name.empty()) throw shared::ConfigError("HUB_COOKIE_NAME", "must not be empty");
  c.cors_origins = source.list("HUB_CORS_ORIGINS", {});
  // Not HUB_CORS_ORIGINS: being allowed to read the hub cross-origin is not being allowed to
  // publish with a visitor's cookie (the reference hub keeps the two apart, empty by default).
  c.publish_origins = source.list("HUB_PUBLISH_ORIGINS", {});

  c.heartbeat =
      source.duration("HUB_HEARTBEAT", c.heartbeat, milliseconds(0), std::chrono::hours(1));
  if (c.heartbeat.count() != 0 && c.heartbeat < milliseconds(100)) {
    throw shared::ConfigError("HUB_HEARTBEAT", "must be 0 (off) or at least 100ms");
  }
  c.history_size =
      static_cast<std::size_t>(source.integer("HUB_HISTORY_SIZE", 10'000, 0, 10'000'000));
  c.history_bytes = source.size("HUB_HISTORY_BYTES", c.history_bytes, 16 * 1024, 1ull << 40);
  c.subscriptions = source.boolean("HUB_SUBSCRIPTIONS", false);

  c.max_connections =
      static_cast<std::size_t>(source.integer("HUB_MAX_CONNECTIONS", 100'000, 1, 10'000'000));
  c.max_topics = static_cast<std::size_t>(source.integer("HUB_MAX_TOPICS", 100, 1, 10'000));
  c.max_update_bytes =
      source.size("HUB_MAX_UPDATE_SIZE", c.max_update_bytes, 1024, 64ull * 1024 * 1024);
  c.max_header_bytes = source.size("HUB_MAX_HEADER_BYTES", c.max_header_bytes, 1024, 1024 * 1024);
  c.subscriber_queue = static_cast<std::size_t>(source.integer(
      "HUB_SUBSCRIBER_QUEUE", static_cast<long long>(c.subscriber_queue), 1, 1'000'000));
  c.subscriber_queue_bytes =
      source.size("HUB_SUBSCRIBER_QUEUE_BYTES", c.subscriber_queue_bytes, 64 * 1024, 1ull << 32);
  c.write_timeout = source.duration("HUB_WRITE_TIMEOUT", c.write_timeout, milliseconds(100));
  c.read_timeout = source.duration("HUB_READ_TIMEOUT", c.read_timeout, milliseconds(100));
  c.idle_timeout = source.duration("HUB_IDLE_TIMEOUT", c.idle_timeout, milliseconds(100));
  c.drain_timeout = source.duration("HUB_DRAIN_TIMEOUT", c.drain_timeout, milliseconds(0),
                                    std::chrono::minutes(10));
  c.selector_cache =
      static_cast<std::size_t>(source.integer("HUB_SELECTOR_CACHE", 10'000, 16, 10'000'000));
  c.selector_cache_bytes =
      source.size("HUB_SELECTOR_CACHE_BYTES", c.selector_cache_bytes, 64 * 1024, 1ull << 36);

  const std::string access = source.one_of("HUB_ACCESS_LOG", "errors", {"errors", "all", "off"});
  c.access_log = access == "all"   ? AccessLog::kAll
                 : access == "off" ? AccessLog::kOff
                                   : AccessLog::kErrors;

  c.redis_url = source.string("HUB_REDIS_URL", "");
  if (!c.redis_url.empty() && !parse_redis_url(c.redis_url)) {
    throw shared::ConfigError("HUB_REDIS_URL",
                              "must look like redis://[:password@]host[:port][/db]");
  }
  c.redis_channel = source.string("HUB_REDIS_CHANNEL", c.redis_channel);
  if (c.redis_channel.empty()) throw shared::ConfigError("HUB_REDIS_CHANNEL", "must not be empty");
  c.redis_timeout = source.duration("HUB_REDIS_TIMEOUT", c.redis_timeout, milliseconds(10),
                                    std::chrono::minutes(1));
  c.redis_queue = static_cast<std::size_t>(
      source.integer("HUB_REDIS_QUEUE", static_cast<long long>(c.redis_queue), 1, 1'000'000));
  c.redis_queue_bytes =
      source.size("HUB_REDIS_QUEUE_BYTES", c.redis_queue_bytes, 64 * 1024, 1ull << 36);
  return c;
}

}  // namespace hub
