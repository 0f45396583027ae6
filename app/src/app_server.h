// The app's router on the event-driven server: /healthz, /readyz and /metrics; /api to the agent;
// (unless APP_HUB_ROUTE=0) /.well-known/mercure* to the hub; the embedded UI; 404 for the rest.
// It also decorates every response with the security headers.
#pragma once

#include <atomic>
#include <memory>

#include "api_proxy.h"
#include "app_config.h"
#include "authenticator.h"
#include "exchange.h"
#include "hub_route.h"
#include "shared/metrics.h"
#include "static_site.h"

namespace app {

class AppServer : public RequestHandler {
 public:
  // Throws shared::ConfigError when the identity files are unusable.
  AppServer(const AppConfig& config, shared::MetricsRegistry& metrics);

  void handle(const ExchangePtr& exchange) override;
  void decorate(const Request* request, Response& response) const;
  // /readyz answers 503 once this is set (the server is stopping).
  void watch_stopping(const std::atomic<bool>* stopping) { stopping_ = stopping; }

 private:
  const AppConfig& config_;
  shared::MetricsRegistry& metrics_;
  std::unique_ptr<Authenticator> authenticator_;
  ApiProxy api_;
  HubRoute hub_;
  StaticSite site_;
  const std::atomic<bool>* stopping_ = nullptr;
};

}  // namespace app
