// app: serves the chat UI, knows who the user is, proxies /api to the agent.
#include <cstdio>

#include "app_config.h"
#include "shared/logging.h"
#include "shared/metrics.h"
#include "shared/shutdown.h"

int main(int argc, char** argv) {
  shared::ShutdownSignal signals;
  app::AppConfig config;
  try {
    config = app::read_app_config(shared::ConfigSource::from_process(argc, argv));
  } catch (const shared::ConfigError& e) {
    std::fprintf(stderr, "app: configuration error: %s\n", e.what());
    return 2;
  }
  shared::log::init(config.log, "app");
  shared::MetricsRegistry metrics;
  shared::http::HttpService service("app", config.server, metrics);
  try {
    service.bind();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "app: APP_LISTEN: %s\n", e.what());
    return 1;
  }
  signals.on_shutdown([&] { service.stop(); });
  const bool drained = service.serve();
  shared::log::info("stopped", {{"drained", drained}});
  return 0;
}
