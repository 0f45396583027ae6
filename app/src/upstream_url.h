// Where an upstream (the agent, the hub) is: APP_AGENT_URL and APP_HUB_UPSTREAM are plain
// http:// URLs. The app talks to both over localhost (one network namespace in every
// deployment), so there is no TLS client here; an https:// URL is a configuration error rather
// than a silent downgrade. The host is resolved once, at start.
#pragma once

#include <string>

namespace app {

struct UpstreamUrl {
  std::string host;  // as written: goes into the Host header
  int port = 80;
  std::string base_path;  // without a trailing slash; "" for none
  std::string address;    // the numeric address the host resolved to at start

  UpstreamUrl() = default;
  UpstreamUrl(std::string h, int p, std::string base)
      : host(std::move(h)), port(p), base_path(std::move(base)), address(host) {}
  // "host:port", for the Host header and messages.
  std::string authority() const { return host + ":" + std::to_string(port); }
};

// Parses and resolves an http:// URL. Throws shared::ConfigError naming setting.
UpstreamUrl parse_upstream_url(const std::string& setting, const std::string& text);

}  // namespace app
