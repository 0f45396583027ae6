// The app's parts wired onto one HTTP service: security headers on every response, the embedded
// UI, /api to the agent, and (unless APP_HUB_ROUTE=0) /.well-known/mercure* to the hub.
#pragma once

#include <memory>

#include "api_proxy.h"
#include "app_config.h"
#include "authenticator.h"
#include "hub_route.h"
#include "shared/http_server.h"
#include "shared/metrics.h"
#include "static_site.h"

namespace app {

// The service's thread count: the API's threads plus one per hub stream of the budget.
shared::http::ServerConfig server_config_for(const AppConfig& config);

class AppServer {
 public:
  // Throws shared::ConfigError when the identity files are unusable.
  AppServer(const AppConfig& config, shared::http::HttpService& service, shared::MetricsRegistry& metrics);

 private:
  const AppConfig& config_;
  std::unique_ptr<Authenticator> authenticator_;
  std::shared_ptr<shared::http::HttpClient> agent_client_;
  std::shared_ptr<shared::http::HttpClient> hub_client_;
  ApiProxy api_;
  HubRoute hub_;
  StaticSite site_;
};

}  // namespace app
