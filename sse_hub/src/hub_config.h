// The hub's settings (DESIGN §3), read and validated in one place.
#pragma once

#include <string>

#include "shared/config.h"
#include "shared/http_server.h"

namespace hub {

struct HubConfig {
  shared::LogConfig log;
  shared::http::ServerConfig server;
};

HubConfig read_hub_config(const shared::ConfigSource& source);

}  // namespace hub
