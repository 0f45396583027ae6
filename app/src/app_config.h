// The app's settings (DESIGN §3), read and validated in one place.
#pragma once

#include <string>

#include "shared/config.h"
#include "shared/http_server.h"

namespace app {

struct AppConfig {
  shared::LogConfig log;
  shared::http::ServerConfig server;
  std::string agent_url = "http://127.0.0.1:8000";   // APP_AGENT_URL
  std::string hub_upstream = "http://127.0.0.1:3701";  // APP_HUB_UPSTREAM
  std::string auth = "none";                           // APP_AUTH: none|alb-oidc|token
};

AppConfig read_app_config(const shared::ConfigSource& source);

}  // namespace app
