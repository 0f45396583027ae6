// What every event loop and connection of the app's server shares: the settings, the handler that
// answers requests, the hook that adds headers to every response, the request metrics, and the
// counters the acceptor and the graceful stop use.
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <string>

#include "app_config.h"
#include "exchange.h"
#include "response.h"
#include "shared/metrics.h"

namespace app {

struct ServerContext {
  ServerContext(const ServerSettings& s, RequestHandler& h, shared::MetricsRegistry& m,
                std::string name)
      : settings(s), handler(h), metrics(m), service(std::move(name)) {}

  const ServerSettings& settings;
  RequestHandler& handler;
  shared::MetricsRegistry& metrics;
  std::string service;  // the "service" label of the request metrics
  // Runs on every response before it is framed, including refusals made before routing (request
  // is null when not even a request line was understood).
  std::function<void(const Request* request, Response& response)> decorate;
  std::size_t upstream_idle_connections = 16;  // kept per upstream per loop (APP_UPSTREAM_IDLE)

  std::atomic<std::size_t> connections{0};  // open client connections, all loops
  std::atomic<bool> stopping{false};
};

}  // namespace app
