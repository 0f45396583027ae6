// app: serves the chat UI, knows who the user is, proxies /api to the agent and (locally) the
// hub's /.well-known/mercure to the hub, on an event-driven HTTP/1.1 server.
#include <cstdio>

#include "app_config.h"
#include "app_server.h"
#include "event_server.h"
#include "shared/logging.h"
#include "shared/metrics.h"
#include "shared/shutdown.h"
#include "stop_request.h"

int main(int argc, char** argv) {
  app::StopRequest stop;  // outlives the signal watcher, which may call it until it is joined
  shared::ShutdownSignal signals;
  // Registered before anything else, so that a signal during start-up is kept, not lost.
  signals.on_shutdown([&stop] { stop.request(); });

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
  std::unique_ptr<app::AppServer> routes;
  try {
    routes = std::make_unique<app::AppServer>(config, metrics);
  } catch (const shared::ConfigError& e) {
    std::fprintf(stderr, "app: configuration error: %s\n", e.what());
    return 2;
  }
  if (config.subscriber_key.empty())
    shared::log::warn(
        "MERCURE_SUBSCRIBER_JWT_KEY is not set: no hub cookie is issued, so the browser "
        "receives private turn updates only from a hub that lets it subscribe without one");
  // Declared after the routes: destroyed (loops stopped and joined) before them.
  app::EventServer server(config.server, *routes, metrics, "app");
  server.context().decorate = [&routes](const app::Request* req, app::Response& res) {
    routes->decorate(req, res);
  };
  server.context().upstream_idle_connections = config.upstream_idle_connections;
  routes->watch_stopping(&server.context().stopping);
  try {
    server.bind();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "app: APP_LISTEN: %s\n", e.what());
    return 1;
  }
  const bool drained = server.run(stop);
  shared::log::info("stopped", {{"drained", drained}});
  if (!drained) shared::abandon_in_flight_work_and_exit(0);  // threads still use the service
  return 0;
}
