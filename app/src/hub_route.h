// Local runs have no ALB to send /.well-known/mercure* to the hub, so the app relays those GETs to
// APP_HUB_UPSTREAM and the browser sees one origin. A stream holds no thread here (it is a relay
// on an event loop), but each holds a connection upstream, so the open streams have a budget:
// APP_HUB_MAX_STREAMS in all and APP_HUB_MAX_STREAMS_PER_USER per user (the user named by a hub
// cookie that verifies with MERCURE_SUBSCRIBER_JWT_KEY; without one, per peer address). One
// stream more is told 503 hub_busy with Retry-After (EventSource clients come back). Only the
// mercureAuthorization cookie and Last-Event-ID go upstream; streams close at shutdown.
#pragma once

#include <memory>
#include <string>

#include "app_config.h"
#include "exchange.h"
#include "shared/metrics.h"
#include "stream_budget.h"

namespace app {

class HubRoute {
 public:
  HubRoute(const AppConfig& config, shared::MetricsRegistry& metrics);
  // GET /.well-known/mercure and /.well-known/mercure/...
  static bool routes(const Request& req);
  void handle(const ExchangePtr& exchange);
  std::size_t open_streams() const { return budget_.open(); }

  // Whose streams a request counts against: "user:<id>" for a valid hub cookie, else
  // "addr:<peer address>".
  std::string budget_key(const Request& req) const;

 private:
  const AppConfig& config_;
  shared::Gauge& open_gauge_;
  shared::Counter& refused_;
  StreamBudget budget_;
};

// The mercureAuthorization cookie alone out of a Cookie header ("" when absent).
std::string subscriber_cookie_only(const std::string& cookie_header);

// The user whose topics a subscriber cookie value (the JWT) allows, when it verifies with key
// and has the shape the app issues ("/users/<user>/sessions/{session}"); "" otherwise.
std::string subscriber_cookie_user(const std::string& jwt, const std::string& key);

}  // namespace app
