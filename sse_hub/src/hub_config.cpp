#include "hub_config.h"

namespace hub {

HubConfig read_hub_config(const shared::ConfigSource& source) {
  HubConfig c;
  c.log = shared::read_log_config(source);
  c.server = shared::http::read_server_config(source, "HUB", "0.0.0.0:3701");
  return c;
}

}  // namespace hub
