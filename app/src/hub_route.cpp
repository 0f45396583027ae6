#include "hub_route.h"

#include "header_screening.h"
#include "relayed_response.h"
#include "shared/http_error.h"
#include "shared/http_server.h"
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

HubRoute::HubRoute(const AppConfig& config, std::shared_ptr<shared::http::HttpClient> client,
                   shared::MetricsRegistry& metrics)
    : config_(config),
      client_(std::move(client)),
      open_gauge_(metrics.gauge("app_hub_streams_open", "hub streams relayed by the app now")),
      refused_(metrics.counter("app_hub_streams_refused_total", "hub streams refused over APP_HUB_MAX_STREAMS")) {}

void HubRoute::install(httplib::Server& server) {
  server.Get(R"(/\.well-known/mercure(/.*)?)",
             [this](const httplib::Request& req, httplib::Response& res) { relay(req, res); });
}

void HubRoute::relay(const httplib::Request& req, httplib::Response& res) {
  if (const auto problem = header_problem(req); !problem.empty()) throw shared::http::bad_request(problem);
  if (req.target.size() > 4096) throw shared::http::HttpError(414, "uri_too_long", "the hub URL is too long");
  for (char c : req.target)
    if (!target_char(c)) throw shared::http::bad_request("unsupported characters in the hub URL");

  // Take a place in the budget first; give it back when the response is over.
  auto open = open_;
  if (open->fetch_add(1) >= config_.hub_max_streams) {
    open->fetch_sub(1);
    refused_.inc();
    res.set_header("Retry-After", "2");
    throw shared::http::HttpError(503, "hub_busy", "too many open hub streams; retry shortly");
  }
  open_gauge_.set(static_cast<double>(open->load()));

  shared::http::ClientRequest upstream;
  upstream.method = "GET";
  upstream.url = config_.hub_upstream + req.target;
  upstream.connect_timeout = config_.agent_connect_timeout;
  upstream.timeout = std::chrono::milliseconds(0);  // a stream: bounded by the stall timeout instead
  upstream.stall_timeout = config_.hub_stall_timeout;
  upstream.headers.emplace_back("Accept", "text/event-stream");
  if (req.get_header_value_count("Last-Event-ID") == 1)
    upstream.headers.emplace_back("Last-Event-ID", req.get_header_value("Last-Event-ID"));
  if (const auto cookie = subscriber_cookie_only(req.get_header_value("Cookie")); !cookie.empty())
    upstream.headers.emplace_back("Cookie", cookie);
  upstream.headers.emplace_back("X-Request-Id", res.get_header_value("X-Request-Id"));

  RelayOptions options;
  options.upstream_name = "hub";
  options.head_timeout = std::chrono::milliseconds(2'000) + config_.agent_connect_timeout;
  options.body_timeout = std::chrono::seconds(10);
  options.whole_body_bound = config_.relay_buffer_bytes;
  options.silent_stream_content_type = "text/event-stream";
  options.idle_comment_interval = config_.hub_keepalive;
  auto gauge = &open_gauge_;
  options.on_done = [open, gauge] { gauge->set(static_cast<double>(open->fetch_sub(1) - 1)); };
  res.set_header("Cache-Control", "no-store");
  res.set_header("X-Accel-Buffering", "no");
  send_relayed(UpstreamRelay::start(client_, std::move(upstream), config_.relay_buffer_bytes), res, options);
}

}  // namespace app
