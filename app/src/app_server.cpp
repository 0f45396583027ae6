#include "app_server.h"

#include "security_headers.h"

namespace app {

shared::http::ServerConfig server_config_for(const AppConfig& config) {
  shared::http::ServerConfig server = config.server;
  if (config.hub_route) server.threads += config.hub_max_streams;
  return server;
}

AppServer::AppServer(const AppConfig& config, shared::http::HttpService& service, shared::MetricsRegistry& metrics)
    : config_(config),
      authenticator_(make_authenticator(config)),
      agent_client_(std::make_shared<shared::http::HttpClient>()),
      hub_client_(std::make_shared<shared::http::HttpClient>()),
      api_(config, *authenticator_, agent_client_),
      hub_(config, hub_client_, metrics),
      site_(embedded_files()) {
  auto& server = service.routes();
  const bool hsts = config_.hsts;
  server.set_post_routing_handler(
      [hsts](const httplib::Request& req, httplib::Response& res) { add_security_headers(req, res, hsts); });
  api_.install(server);
  if (config_.hub_route) hub_.install(server);
  site_.install(server);
}

}  // namespace app
