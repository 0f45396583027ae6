#include "hub_route.h"

#include "event_loop.h"
#include "relay.h"
#include "shared/http_error.h"
#include "shared/jwt.h"
#include "subscriber_cookie.h"

namespace app {
namespace {

bool target_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("-._~/?%&=+,:;@!$*()'").find(c) != std::string_view::npos;
}

}  // namespace

std::string subscriber_cookie_only(const std::string& cookie_header) {
  const std::string name = std::string(SubscriberCookie::kName) + "=";
  std::size_t start = 0;
  while (start < cookie_header.size()) {
    auto end = cookie_header.find(';', start);
    if (end == std::string::npos) end = cookie_header.size();
    std::size_t b = start;
    while (b < end && cookie_header[b] == ' ') ++b;
    if (cookie_header.compare(b, name.size(), name) == 0) return cookie_header.substr(b, end - b);
    start = end + 1;
  }
  return {};
}

std::string subscriber_cookie_user(const std::string& jwt, const std::string& key) {
  if (key.empty() || jwt.empty() || jwt.size() > 8192) return {};
  try {
    const auto claims =
        shared::jwt::verify(jwt, {shared::jwt::Key{shared::jwt::Algorithm::kHS256, key, ""}});
    const auto& subscribe = claims.at("mercure").at("subscribe");
    if (!subscribe.is_array() || subscribe.size() != 1 || !subscribe[0].is_string()) return {};
    const std::string topic = subscribe[0];
    constexpr std::string_view kPrefix = "/users/", kSuffix = "/sessions/{session}";
    if (topic.size() <= kPrefix.size() + kSuffix.size() || !topic.starts_with(kPrefix) ||
        !topic.ends_with(kSuffix))
      return {};
    return topic.substr(kPrefix.size(), topic.size() - kPrefix.size() - kSuffix.size());
  } catch (const std::exception&) {
    return {};
  }
}

HubRoute::HubRoute(const AppConfig& config, shared::MetricsRegistry& metrics)
    : config_(config),
      open_gauge_(metrics.gauge("app_hub_streams_open", "hub streams relayed by the app now")),
      refused_(metrics.counter(
          "app_hub_streams_refused_total",
          "hub streams refused over APP_HUB_MAX_STREAMS or APP_HUB_MAX_STREAMS_PER_USER")),
      budget_(config.hub_max_streams, config.hub_max_streams_per_user,
              [gauge = &open_gauge_](std::size_t open) { gauge->set(static_cast<double>(open)); }) {
}

bool HubRoute::routes(const Request& req) {
  constexpr std::string_view kPath = "/.well-known/mercure";
  if (req.method != "GET" || !req.path.starts_with(kPath)) return false;
  return req.path.size() == kPath.size() || req.path[kPath.size()] == '/';
}

std::string HubRoute::budget_key(const Request& req) const {
  const std::string cookie = subscriber_cookie_only(req.header("Cookie"));
  if (!cookie.empty()) {
    const std::string user =
        subscriber_cookie_user(cookie.substr(cookie.find('=') + 1), config_.subscriber_key);
    if (!user.empty()) return "user:" + user;
  }
  return "addr:" + req.remote_addr;
}

void HubRoute::handle(const ExchangePtr& exchange) {
  const Request& req = exchange->request();
  if (req.target.size() > 4096)
    throw shared::http::HttpError(414, "uri_too_long", "the hub URL is too long");
  for (char c : req.target)
    if (!target_char(c)) throw shared::http::bad_request("unsupported characters in the hub URL");

  StreamBudget::Refusal why = StreamBudget::Refusal::kNone;
  auto place = budget_.take(budget_key(req), &why);
  if (!place) {
    refused_.inc();
    exchange->respond(error_response(503, "hub_busy",
                                     why == StreamBudget::Refusal::kPerKey
                                         ? "too many open hub streams for this user; retry shortly"
                                         : "too many open hub streams; retry shortly")
                          .set_header("Retry-After", "2"));
    return;
  }

  UpstreamRequest upstream;
  upstream.method = "GET";
  upstream.target = config_.hub.base_path + req.target;
  upstream.host = config_.hub.authority();
  upstream.headers.emplace_back("Accept", "text/event-stream");
  if (req.header_count("Last-Event-ID") == 1)
    upstream.headers.emplace_back("Last-Event-ID", req.header("Last-Event-ID"));
  if (const auto cookie = subscriber_cookie_only(req.header("Cookie")); !cookie.empty())
    upstream.headers.emplace_back("Cookie", cookie);
  upstream.headers.emplace_back("X-Request-Id", req.request_id);

  RelayOptions options;
  options.upstream_name = "hub";
  options.timeouts.connect = config_.agent_connect_timeout;
  options.timeouts.stall = config_.hub_stall_timeout;  // a stream has no total timeout
  options.buffer_bytes = config_.relay_buffer_bytes;
  options.idle_comment = config_.hub_keepalive;
  options.fixed_headers = {{"Cache-Control", "no-store"}, {"X-Accel-Buffering", "no"}};
  options.hold = std::move(place);
  exchange->close_on_drain();
  Relay::start(exchange, exchange->loop().upstream_pool(config_.hub.address, config_.hub.port),
               std::move(upstream), std::move(options));
}

}  // namespace app
