#include "upstream_url.h"

#include <netdb.h>
#include <sys/socket.h>

#include <cstring>

#include "shared/config.h"

namespace app {
namespace {

std::string resolve(const std::string& setting, const std::string& host) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string name =
      host.size() > 2 && host.front() == '[' ? host.substr(1, host.size() - 2) : host;
  if (getaddrinfo(name.c_str(), nullptr, &hints, &found) != 0 || found == nullptr)
    throw shared::ConfigError(setting, "cannot resolve host " + host);
  char text[NI_MAXHOST] = {0};
  const int rc =
      getnameinfo(found->ai_addr, found->ai_addrlen, text, sizeof text, nullptr, 0, NI_NUMERICHOST);
  freeaddrinfo(found);
  if (rc != 0) throw shared::ConfigError(setting, "cannot resolve host " + host);
  return text;
}

}  // namespace

UpstreamUrl parse_upstream_url(const std::string& setting, const std::string& text) {
  constexpr std::string_view kScheme = "http://";
  if (text.rfind("https://", 0) == 0)
    throw shared::ConfigError(
        setting, "must be a plain http:// URL (the app reaches it over localhost): " + text);
  if (text.rfind(kScheme, 0) != 0)
    throw shared::ConfigError(setting, "must start with http://: " + text);
  const std::string rest = text.substr(kScheme.size());
  const auto slash = rest.find('/');
  const std::string authority = rest.substr(0, slash);
  std::string path = slash == std::string::npos ? "" : rest.substr(slash);
  if (path.find_first_of("?#") != std::string::npos)
    throw shared::ConfigError(setting, "must not have a query or fragment: " + text);
  while (!path.empty() && path.back() == '/') path.pop_back();

  UpstreamUrl url;
  std::string port_text;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string::npos) throw shared::ConfigError(setting, "malformed host: " + text);
    url.host = authority.substr(0, close + 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':')
        throw shared::ConfigError(setting, "malformed host: " + text);
      port_text = authority.substr(close + 2);
    }
  } else {
    const auto colon = authority.rfind(':');
    url.host = authority.substr(0, colon);
    if (colon != std::string::npos) port_text = authority.substr(colon + 1);
  }
  if (url.host.empty() || url.host.find('@') != std::string::npos)
    throw shared::ConfigError(setting, "malformed host: " + text);
  if (!port_text.empty() || authority.back() == ':') {
    char* end = nullptr;
    const long port = std::strtol(port_text.c_str(), &end, 10);
    if (port_text.empty() || *end != '\0' || port < 1 || port > 65535)
      throw shared::ConfigError(setting, "bad port: " + text);
    url.port = static_cast<int>(port);
  }
  url.base_path = path;
  url.address = url.host == "localhost" ? "127.0.0.1" : resolve(setting, url.host);
  return url;
}

}  // namespace app
