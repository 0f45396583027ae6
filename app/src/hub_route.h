// Local runs have no ALB to send /.well-known/mercure* to the hub, so the app relays those GETs to
// APP_HUB_UPSTREAM and the browser sees one origin. Event streams last as long as the page is
// open and each holds one server thread here, so they get a budget of their own: the server has
// APP_THREADS + APP_HUB_MAX_STREAMS threads and at most APP_HUB_MAX_STREAMS of them stream; one
// stream more is told 503 with Retry-After (EventSource clients come back), and the API's threads
// are never taken.
#pragma once

#include <httplib.h>

#include <atomic>
#include <memory>

#include "app_config.h"
#include "shared/http_client.h"
#include "shared/metrics.h"

namespace app {

class HubRoute {
 public:
  HubRoute(const AppConfig& config, std::shared_ptr<shared::http::HttpClient> client, shared::MetricsRegistry& metrics);
  void install(httplib::Server& server);
  std::size_t open_streams() const { return open_->load(); }

 private:
  void relay(const httplib::Request& req, httplib::Response& res);

  const AppConfig& config_;
  std::shared_ptr<shared::http::HttpClient> client_;
  std::shared_ptr<std::atomic<std::size_t>> open_ = std::make_shared<std::atomic<std::size_t>>(0);
  shared::Gauge& open_gauge_;
  shared::Counter& refused_;
};

// The mercureAuthorization cookie alone out of a Cookie header ("" when absent).
std::string subscriber_cookie_only(const std::string& cookie_header);

}  // namespace app
