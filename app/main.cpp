// app: serves the chat UI, knows who the user is, proxies /api to the agent and (locally) the
// hub's /.well-known/mercure to the hub.
#include <cstdio>

#include "app_config.h"
#include "app_server.h"
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
  if (!config.subscriber_key.empty()) shared::log::add_secret(config.subscriber_key);
  shared::MetricsRegistry metrics;
  shared::http::HttpService service("app", app::server_config_for(config), metrics);
  std::unique_ptr<app::AppServer> app_server;
  try {
    app_server = std::make_unique<app::AppServer>(config, service, metrics);
  } catch (const shared::ConfigError& e) {
    std::fprintf(stderr, "app: configuration error: %s\n", e.what());
    return 2;
  }
  if (config.subscriber_key.empty())
    shared::log::warn(
        "MERCURE_SUBSCRIBER_JWT_KEY is not set: no hub cookie is issued, so the browser "
        "receives private turn updates only from a hub that lets it subscribe without one");
  try {
    service.bind();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "app: APP_LISTEN: %s\n", e.what());
    return 1;
  }
  signals.on_shutdown([&] { service.stop(); });
  const bool drained = service.serve();
  shared::log::info("stopped", {{"drained", drained}});
  if (!drained) shared::abandon_in_flight_work_and_exit(0);  // threads still use the service
  return 0;
}
