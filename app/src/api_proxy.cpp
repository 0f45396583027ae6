#include "api_proxy.h"

#include "event_loop.h"
#include "relay.h"
#include "shared/http_error.h"
#include "shared/logging.h"

namespace app {
namespace {

// Request headers passed to the agent. An allow-list rather than a deny-list: identity,
// forwarding and connection headers a client might forge (in any letter case, duplicated or
// folded) simply never reach the agent.
constexpr const char* kForwardedRequestHeaders[] = {"Content-Type", "Accept", "Accept-Language",
                                                    "If-None-Match", "If-Match"};

// Where the browser finds the hub (same origin: the app's own route locally, the ALB's behind it).
constexpr const char* kDiscoveryLink = "</.well-known/mercure>; rel=\"mercure\"";

bool path_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~' || c == '/';
}

bool query_char(char c) {
  return path_char(c) || c == '%' || c == '&' || c == '=' || c == '+' || c == ',' || c == ':';
}

bool is_json_type(const std::string& type) {
  const std::string base = type.substr(0, type.find(';'));
  std::string lower;
  for (char c : base)
    if (c != ' ') lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower == "application/json";
}

}  // namespace

std::string agent_target_for(const std::string& target) {
  constexpr std::string_view kPrefix = "/api/";
  if (target.rfind(kPrefix, 0) != 0) return {};
  const auto q = target.find('?');
  const std::string path = target.substr(
      kPrefix.size(), q == std::string::npos ? std::string::npos : q - kPrefix.size());
  const std::string query = q == std::string::npos ? std::string() : target.substr(q + 1);
  if (path.empty() || path.size() > 1024 || query.size() > 2048) return {};
  for (char c : path)
    if (!path_char(c)) return {};
  for (char c : query)
    if (!query_char(c)) return {};
  std::size_t start = 0;
  while (start <= path.size()) {
    const auto slash = path.find('/', start);
    const std::string segment =
        path.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (segment == "." || segment == ".." || (segment.empty() && slash != std::string::npos))
      return {};
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return "/v1/" + path + (query.empty() ? "" : "?" + query);
}

bool is_session_path(const std::string& path) {
  constexpr std::string_view kPrefix = "/api/sessions/";
  if (path.rfind(kPrefix, 0) != 0 || path.size() == kPrefix.size()) return false;
  return path.find('/', kPrefix.size()) == std::string::npos;
}

ApiProxy::ApiProxy(const AppConfig& config, Authenticator& authenticator)
    : config_(config),
      authenticator_(authenticator),
      rate_limiter_(config.rate_per_minute, config.rate_burst, config.rate_max_users),
      origin_policy_(config.allowed_origins),
      cookie_(config.subscriber_key, config.subscriber_cookie_ttl, config.cookie_secure) {}

bool ApiProxy::routes(const Request& req) {
  if (req.path == "/api/me") return req.method == "GET";
  if (req.path.rfind("/api/", 0) != 0 || req.path.size() <= 5) return false;
  const std::string& m = req.method;
  return m == "GET" || m == "POST" || m == "PUT" || m == "PATCH" || m == "DELETE";
}

void ApiProxy::handle(const ExchangePtr& exchange) {
  // An identity that needs a key the app has not fetched yet waits on its loop (parked: only an
  // id crosses to the fetching thread) and is looked at again when the fetch is over.
  EventLoop& loop = exchange->loop();
  const std::uint64_t id = loop.park(exchange);
  exchange->on_abort([&loop, id] { loop.unpark(id); });
  auto resume = [this, &loop, id, post = loop.remote()] {
    post([this, &loop, id] {
      auto parked = loop.unpark(id);
      if (!parked || parked->over()) return;
      shared::log::RequestScope scope(parked->request().request_id);
      try {
        identified(parked);
      } catch (const shared::http::HttpError& e) {
        parked->respond(error_response(e.status(), e.code(), e.what()));
      }
    });
  };
  if (authenticator_.prepare(exchange->request(), resume)) return;
  loop.unpark(id);
  exchange->on_abort(nullptr);
  identified(exchange);
}

void ApiProxy::identified(const ExchangePtr& exchange) {
  const Request& req = exchange->request();
  const std::string user = authenticator_.authenticate(req);
  if (!plausible_user_id(user)) throw shared::http::unauthorized("unusable user id");
  if (const int wait = rate_limiter_.take(user); wait > 0) {
    exchange->respond(error_response(429, "rate_limited",
                                     "too many requests; retry in " + std::to_string(wait) + " s")
                          .set_header("Retry-After", std::to_string(wait)));
    return;
  }
  const bool bearer = authenticator_.bearer_based() && req.has_header("Authorization");
  if (const auto problem = origin_policy_.problem(req, bearer); !problem.empty())
    throw shared::http::HttpError(403, "forbidden_origin", problem);
  if (req.path == "/api/me") {
    me(exchange, user);
  } else {
    relay(exchange, user);
  }
}

void ApiProxy::me(const ExchangePtr& exchange, const std::string& user) {
  nlohmann::json hub = {{"url", "/.well-known/mercure"},
                        {"topic_prefix", SubscriberCookie::topic_prefix(user)},
                        {"cookie", cookie_.enabled()}};
  Response res;
  if (cookie_.enabled()) hub["renew_in_seconds"] = cookie_.ttl().count() / 2;
  res = json_response(200, {{"user_id", user}, {"auth", config_.auth}, {"hub", hub}});
  if (cookie_.enabled())
    res.set_header("Set-Cookie", cookie_.set_cookie(user, std::chrono::system_clock::now()));
  res.set_header("Cache-Control", "no-store");
  exchange->respond(std::move(res));
}

void ApiProxy::relay(const ExchangePtr& exchange, const std::string& user) {
  const Request& req = exchange->request();
  const std::string target = agent_target_for(req.target);
  if (target.empty())
    throw shared::http::bad_request("unsupported characters or segments in the API path");

  UpstreamRequest upstream;
  upstream.method = req.method;
  upstream.target = config_.agent.base_path + target;
  upstream.host = config_.agent.authority();
  if (!req.body.empty()) {
    if (!is_json_type(req.header("Content-Type")))
      throw shared::http::HttpError(415, "unsupported_media_type",
                                    "the API accepts application/json bodies only");
    if (nlohmann::json::parse(req.body, nullptr, false).is_discarded())
      throw shared::http::bad_request("the body is not valid JSON");
    upstream.body = req.body;
  }
  for (const char* name : kForwardedRequestHeaders) {
    if (req.header_count(name) == 1) upstream.headers.emplace_back(name, req.header(name));
  }
  upstream.headers.emplace_back("X-User-Id", user);
  upstream.headers.emplace_back("X-Request-Id", req.request_id);
  upstream.headers.emplace_back("X-Forwarded-For", req.remote_addr);

  RelayOptions options;
  options.upstream_name = "agent";
  options.timeouts.connect = config_.agent_connect_timeout;
  options.timeouts.total = config_.agent_timeout;
  options.buffer_bytes = config_.relay_buffer_bytes;
  if (req.method == "GET" && is_session_path(req.path))
    options.success_headers.emplace_back("Link", kDiscoveryLink);
  Relay::start(exchange, exchange->loop().upstream_pool(config_.agent.address, config_.agent.port),
               std::move(upstream), std::move(options));
}

}  // namespace app
