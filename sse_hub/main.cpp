// sse_hub: the Mercure hub that streams updates to browsers.
#include <cstdio>

#include "hub_config.h"
#include "hub_server.h"
#include "redis_bridge.h"
#include "shared/logging.h"
#include "shared/metrics.h"
#include "shared/shutdown.h"

int main(int argc, char** argv) {
  shared::ShutdownSignal signals;
  hub::HubConfig config;
  try {
    config = hub::read_hub_config(shared::ConfigSource::from_process(argc, argv));
  } catch (const shared::ConfigError& e) {
    std::fprintf(stderr, "sse_hub: configuration error: %s\n", e.what());
    return 2;
  }
  shared::log::init(config.log, "sse_hub");
  for (const auto& key : config.publisher_keys) shared::log::add_secret(key.material);
  for (const auto& key : config.subscriber_keys) shared::log::add_secret(key.material);
  shared::MetricsRegistry metrics;
  hub::HubServer server(config, metrics);
  try {
    server.bind();
  } catch (const hub::RedisError& e) {
    std::fprintf(stderr, "sse_hub: HUB_REDIS_URL: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sse_hub: HUB_LISTEN: %s\n", e.what());
    return 1;
  }
  signals.on_shutdown([&] { server.stop(); });
  const bool drained = server.run();
  shared::log::info("stopped", {{"drained", drained}});
  return 0;
}
