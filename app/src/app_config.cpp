#include "app_config.h"

namespace app {

AppConfig read_app_config(const shared::ConfigSource& source) {
  AppConfig c;
  c.log = shared::read_log_config(source);
  c.server = shared::http::read_server_config(source, "APP", "0.0.0.0:8080");
  c.agent_url = source.url("APP_AGENT_URL", "http://127.0.0.1:8000");
  c.hub_upstream = source.url("APP_HUB_UPSTREAM", "http://127.0.0.1:3701");
  c.auth = source.one_of("APP_AUTH", "none", {"none", "alb-oidc", "token"});
  return c;
}

}  // namespace app
