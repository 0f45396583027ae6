#include "api_proxy.h"

#include "header_screening.h"
#include "relayed_response.h"
#include "shared/http_error.h"
#include "shared/http_server.h"
#include "shared/logging.h"

namespace app {
namespace {

// Request headers passed to the agent. An allow-list rather than a deny-list: identity,
// forwarding and connection headers a client might forge (in any letter case, duplicated or
// folded) simply never reach the agent.
constexpr const char* kForwardedRequestHeaders[] = {"Content-Type", "Accept", "Accept-Language", "If-None-Match",
                                                    "If-Match"};

bool path_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~' || c == '/';
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

std::string agent_url_for(const std::string& base, const std::string& target) {
  constexpr std::string_view kPrefix = "/api/";
  if (target.rfind(kPrefix, 0) != 0) return {};
  const auto q = target.find('?');
  const std::string path = target.substr(kPrefix.size(), q == std::string::npos ? std::string::npos : q - kPrefix.size());
  const std::string query = q == std::string::npos ? std::string() : target.substr(q + 1);
  if (path.empty() || path.size() > 1024 || query.size() > 2048) return {};
  for (char c : path)
    if (!path_char(c)) return {};
  for (char c : query)
    if (!query_char(c)) return {};
  std::size_t start = 0;
  while (start <= path.size()) {
    const auto slash = path.find('/', start);
    const std::string segment = path.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (segment == "." || segment == ".." || (segment.empty() && slash != std::string::npos)) return {};
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return base + "/v1/" + path + (query.empty() ? "" : "?" + query);
}

ApiProxy::ApiProxy(const AppConfig& config, Authenticator& authenticator,
                   std::shared_ptr<shared::http::HttpClient> client)
    : config_(config),
      authenticator_(authenticator),
      client_(std::move(client)),
      rate_limiter_(config.rate_per_minute, config.rate_burst, config.rate_max_users),
      origin_policy_(config.allowed_origins),
      cookie_(config.subscriber_key, config.subscriber_cookie_ttl, config.cookie_secure) {}

void ApiProxy::install(httplib::Server& server) {
  server.Get("/api/me", [this](const httplib::Request& req, httplib::Response& res) { me(req, res); });
  auto relay_handler = [this](const httplib::Request& req, httplib::Response& res) { relay(req, res); };
  server.Get(R"(/api/.+)", relay_handler);
  server.Post(R"(/api/.+)", relay_handler);
  server.Put(R"(/api/.+)", relay_handler);
  server.Patch(R"(/api/.+)", relay_handler);
  server.Delete(R"(/api/.+)", relay_handler);
}

std::string ApiProxy::admit(const httplib::Request& req, httplib::Response& res) {
  if (const auto problem = header_problem(req); !problem.empty()) throw shared::http::bad_request(problem);
  const std::string user = authenticator_.authenticate(req);
  if (!plausible_user_id(user)) throw shared::http::unauthorized("unusable user id");
  if (const int wait = rate_limiter_.take(user); wait > 0) {
    res.set_header("Retry-After", std::to_string(wait));
    throw shared::http::HttpError(429, "rate_limited", "too many requests; retry in " + std::to_string(wait) + " s");
  }
  if (const auto problem = origin_policy_.problem(req, authenticator_.bearer_based() && req.has_header("Authorization"));
      !problem.empty()) {
    throw shared::http::HttpError(403, "forbidden_origin", problem);
  }
  return user;
}

void ApiProxy::me(const httplib::Request& req, httplib::Response& res) {
  const std::string user = admit(req, res);
  nlohmann::json hub = {{"url", "/.well-known/mercure"},
                        {"topic_prefix", SubscriberCookie::topic_prefix(user)},
                        {"cookie", cookie_.enabled()}};
  if (cookie_.enabled()) {
    res.set_header("Set-Cookie", cookie_.set_cookie(user, std::chrono::system_clock::now()));
    hub["renew_in_seconds"] = cookie_.ttl().count() / 2;
  }
  res.set_header("Cache-Control", "no-store");
  shared::http::send_json(res, 200, {{"user_id", user}, {"auth", config_.auth}, {"hub", hub}});
}

void ApiProxy::relay(const httplib::Request& req, httplib::Response& res) {
  const std::string user = admit(req, res);
  const std::string url = agent_url_for(config_.agent_url, req.target);
  if (url.empty()) throw shared::http::bad_request("unsupported characters or segments in the API path");

  shared::http::ClientRequest upstream;
  upstream.method = req.method;
  upstream.url = url;
  upstream.connect_timeout = config_.agent_connect_timeout;
  upstream.timeout = config_.agent_timeout;
  if (!req.body.empty()) {
    if (!is_json_type(req.get_header_value("Content-Type")))
      throw shared::http::HttpError(415, "unsupported_media_type", "the API accepts application/json bodies only");
    if (nlohmann::json::parse(req.body, nullptr, false).is_discarded())
      throw shared::http::bad_request("the body is not valid JSON");
    upstream.body = req.body;
  }
  for (const char* name : kForwardedRequestHeaders) {
    if (req.get_header_value_count(name) == 1) upstream.headers.emplace_back(name, req.get_header_value(name));
  }
  upstream.headers.emplace_back("X-User-Id", user);
  upstream.headers.emplace_back("X-Request-Id", res.get_header_value("X-Request-Id"));
  upstream.headers.emplace_back("X-Forwarded-For", req.remote_addr);

  RelayOptions options;
  options.upstream_name = "agent";
  options.head_timeout = config_.agent_timeout + std::chrono::seconds(1);
  options.body_timeout = config_.agent_timeout + std::chrono::seconds(1);
  options.whole_body_bound = config_.relay_buffer_bytes;
  send_relayed(UpstreamRelay::start(client_, std::move(upstream), config_.relay_buffer_bytes), res, options);
}

}  // namespace app
