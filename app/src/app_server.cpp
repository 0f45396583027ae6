#include "app_server.h"

#include "security_headers.h"
#include "shared/http_error.h"

namespace app {

AppServer::AppServer(const AppConfig& config, shared::MetricsRegistry& metrics)
    : config_(config),
      metrics_(metrics),
      authenticator_(make_authenticator(config)),
      api_(config, *authenticator_),
      hub_(config, metrics),
      site_(embedded_files()) {}

void AppServer::decorate(const Request* request, Response& response) const {
  add_security_headers(request, response, config_.hsts);
}

void AppServer::handle(const ExchangePtr& exchange) {
  const Request& req = exchange->request();
  const bool read = req.method == "GET" || req.method == "HEAD";
  if (read && req.path == "/healthz") {
    exchange->respond(json_response(200, {{"status", "ok"}}));
    return;
  }
  if (read && req.path == "/readyz") {
    const bool ready = !(stopping_ && stopping_->load());
    exchange->respond(json_response(ready ? 200 : 503, {{"status", ready ? "ready" : "not_ready"},
                                                        {"checks", nlohmann::json::object()}}));
    return;
  }
  if (read && req.path == "/metrics") {
    Response res;
    res.headers.emplace_back("Content-Type", "text/plain; version=0.0.4");
    res.body = metrics_.render();
    exchange->respond(std::move(res));
    return;
  }
  if (ApiProxy::routes(req)) {
    api_.handle(exchange);
    return;
  }
  if (config_.hub_route && HubRoute::routes(req)) {
    hub_.handle(exchange);
    return;
  }
  if (StaticSite::routes(req)) {
    exchange->respond(site_.serve(req));
    return;
  }
  throw shared::http::not_found("no such resource");
}

}  // namespace app
