#include "mercure_endpoints.h"

#include <boost/beast/http.hpp>

#include "event_loop.h"
#include "redis_bridge.h"
#include "hub_context.h"
#include "shared/logging.h"
#include "url_form.h"

namespace hub {

namespace http = boost::beast::http;

namespace {

struct Target {
  std::string_view path;
  std::string_view query;
};

Target split_target(std::string_view target) {
  const std::size_t q = target.find('?');
  if (q == std::string_view::npos) return {target, {}};
  return {target.substr(0, q), target.substr(q + 1)};
}

std::string header(const HttpRequest& request, http::field field) {
  auto it = request.find(field);
  return it == request.end() ? std::string() : std::string(it->value());
}

// The CORS response headers for an allowed Origin (credentials included), none otherwise.
void add_cors(const HttpRequest& request, const HubConfig& config, HttpResponse& response) {
  const std::string origin = header(request, http::field::origin);
  if (origin.empty()) return;
  for (const auto& allowed : config.cors_origins) {
    if (allowed == "*" || allowed == origin) {
      response.header("Access-Control-Allow-Origin", origin)
          .header("Access-Control-Allow-Credentials", "true")
          .header("Vary", "Origin");
      return;
    }
  }
}

std::string cors_head(const HttpRequest& request, const HubConfig& config) {
  HttpResponse r;
  add_cors(request, config, r);
  std::string out;
  for (const auto& [k, v] : r.headers) out += k + ": " + v + "\r\n";
  return out;
}

AuthorizationInput authorization_input(const HttpRequest& request, const FormFields& query) {
  AuthorizationInput input;
  for (auto [it, end] = request.equal_range(http::field::authorization); it != end; ++it) {
    input.authorization_headers.emplace_back(it->value());
  }
  input.query_token = form_value(query, "authorization");
  for (auto [it, end] = request.equal_range(http::field::cookie); it != end; ++it) {
    if (!input.cookie_header.empty()) input.cookie_header += "; ";
    input.cookie_header.append(it->value());
  }
  input.origin = header(request, http::field::origin);
  input.referer = header(request, http::field::referer);
  input.is_post = request.method() == http::verb::post;
  return input;
}

HttpResponse unauthorized(HubContext& hub, const std::string& why) {
  hub.metrics.unauthorized.inc();
  shared::log::debug("unauthorized", {{"why", why}});
  HttpResponse r = status_error(401);
  r.header("WWW-Authenticate", "Bearer realm=\"mercure\"");
  return r;
}

HttpResponse publish(const HttpRequest& request, EventLoop& loop) {
  HubContext& hub = loop.hub();
  const auto query = parse_form(split_target(request.target()).query);
  if (!query) return text_error(400, "Bad Request");
  const auto auth = hub.publisher.authorize(authorization_input(request, *query));
  if (!auth.ok() || !auth.claims || !auth.claims->publish) {
    return unauthorized(hub, auth.ok() ? "no token with a mercure.publish claim" : auth.error);
  }
  const auto form = parse_form(request.body());
  if (!form) return text_error(400, "Bad Request");
  PublishForm parsed = update_from_form(*form, hub.config.max_topics);
  if (parsed.error) return text_error(parsed.error->status, parsed.error->message);
  Update& update = *parsed.update;
  // Every topic of the update must be allowed by one of the publish selectors.
  for (const auto& topic : update.topics) {
    bool allowed = false;
    for (const auto& selector : *auth.claims->publish) {
      if (loop.selectors().matches(topic, selector)) {
        allowed = true;
        break;
      }
    }
    if (!allowed) return unauthorized(hub, "topic not allowed by mercure.publish");
  }
  std::string id = update.id;
  try {
    hub.publish(std::move(update));
  } catch (const RedisError& e) {
    shared::log::error("publish failed", {{"error", e.what()}});
    return text_error(503, "Service Unavailable");
  }
  hub.metrics.published.inc();
  HttpResponse r;
  r.header("Content-Type", "text/plain; charset=utf-8");
  r.body = std::move(id);
  return r;
}

RequestOutcome subscribe(const HttpRequest& request, EventLoop& loop) {
  HubContext& hub = loop.hub();
  const HubConfig& config = hub.config;
  RequestOutcome outcome;
  const auto query = parse_form(split_target(request.target()).query);
  if (!query) {
    outcome.response = text_error(400, "Bad Request");
    return outcome;
  }
  const auto auth = hub.subscriber.authorize(authorization_input(request, *query));
  if (!auth.ok() || (!auth.claims && !config.anonymous)) {
    outcome.response = unauthorized(hub, auth.ok() ? "no token and MERCURE_ANONYMOUS is off" : auth.error);
    return outcome;
  }
  auto topics = form_values(*query, "topic");
  if (topics.empty()) {
    outcome.response = text_error(400, "Missing \"topic\" parameter.");
    return outcome;
  }
  if (topics.size() > config.max_topics) {
    outcome.response = text_error(400, "Too many \"topic\" parameters.");
    return outcome;
  }
  std::string last_event_id = std::string(request["Last-Event-ID"]);
  if (last_event_id.empty()) last_event_id = form_value(*query, "lastEventID").value_or("");

  auto subscriber = std::make_unique<Subscriber>();
  subscriber->id = new_urn_uuid();
  subscriber->topics = std::move(topics);
  if (auth.claims) {
    subscriber->allowed_private = auth.claims->subscribe;
    if (!auth.claims->payload.is_null()) {
      subscriber->payload = std::make_shared<const nlohmann::json>(auth.claims->payload);
    }
  }
  std::shared_ptr<SubscriptionInfo> info;
  if (config.subscriptions) {
    info = std::make_shared<SubscriptionInfo>();
    info->subscriber = subscriber->id;
    info->topics = subscriber->topics;
    info->payload = subscriber->payload;
    // Announced before attaching, as the reference hub does: a watcher does not see itself come.
    announce_subscription(hub, *info, true);
  }
  const UpdateBus::Attachment attachment = hub.bus.attach(last_event_id);
  subscriber->last_sequence = attachment.sequence;

  StreamStart start;
  for (const auto& update : attachment.replay.updates) {
    if (update->sequence <= attachment.sequence && subscriber->wants(*update, loop.selectors())) {
      start.replay.push_back(update);
    }
  }
  std::string& head = start.head;
  head =
      "HTTP/1.1 200 OK\r\n"
      "Content-Type: text/event-stream\r\n"
      "Cache-Control: private, no-cache, no-store, must-revalidate, max-age=0\r\n"
      "Pragma: no-cache\r\n"
      "Expires: 0\r\n"
      "X-Accel-Buffering: no\r\n"
      "Connection: keep-alive\r\n"
      "Transfer-Encoding: chunked\r\n";
  if (!last_event_id.empty()) head += "Last-Event-ID: " + attachment.last_event_id + "\r\n";
  head += cors_head(request, config);
  head += "\r\n";
  // A comment makes the headers and the stream visible to the client at once.
  head += http_chunk(":\n");
  if (!last_event_id.empty() && !attachment.replay.found) {
    head += http_chunk(": Last-Event-ID not found in the history: nothing replayed\n");
    shared::log::debug("unknown Last-Event-ID", {{"subscriber", subscriber->id}});
  }
  if (auth.claims) start.expires_at = auth.claims->expires_at;
  start.info = std::move(info);
  shared::log::debug("subscriber connected",
                     {{"subscriber", subscriber->id}, {"topics", subscriber->topics}, {"replayed", start.replay.size()}});
  start.subscriber = std::move(subscriber);
  outcome.stream = std::move(start);
  return outcome;
}

std::string etag_for(const std::string& last_event_id) {
  std::string out = "\"";
  for (char c : last_event_id) {
    if (c == '%') out += "%25";
    else if (c == '"') out += "%22";
    else out += c;
  }
  return out + "\"";
}

HttpResponse subscriptions_api(const HttpRequest& request, EventLoop& loop, std::string_view path) {
  HubContext& hub = loop.hub();
  if (!hub.config.subscriptions) return text_error(404, "404 page not found");
  // path: "", "/{topic}" or "/{topic}/{subscriber}"
  std::string_view rest = path.substr(kSubscriptionsPath.size());
  std::optional<std::string> topic;
  std::optional<std::string> subscriber;
  if (!rest.empty()) {
    if (rest.front() != '/') return text_error(404, "404 page not found");
    rest.remove_prefix(1);
    const std::size_t slash = rest.find('/');
    topic = form_decode(rest.substr(0, slash));
    if (!topic) return text_error(400, "invalid topic segment");
    if (slash != std::string_view::npos) {
      const std::string_view sub = rest.substr(slash + 1);
      if (sub.empty() || sub.find('/') != std::string_view::npos) return text_error(404, "404 page not found");
      subscriber = form_decode(sub);
      if (!subscriber) return text_error(400, "invalid subscriber segment");
    }
  }
  const auto query = parse_form(split_target(request.target()).query);
  if (!query) return text_error(400, "Bad Request");
  const auto auth = hub.subscriber.authorize(authorization_input(request, *query));
  if (!auth.ok() || !auth.claims || !auth.claims->subscribe) {
    return unauthorized(hub, auth.ok() ? "no token with a mercure.subscribe claim" : auth.error);
  }
  const std::string current(path);
  bool allowed = false;
  for (const auto& selector : *auth.claims->subscribe) allowed = allowed || loop.selectors().matches(current, selector);
  if (!allowed) return unauthorized(hub, "mercure.subscribe does not cover " + current);

  const std::string last_event_id = hub.bus.last_event_id();
  const std::string etag = etag_for(last_event_id);
  HttpResponse r;
  r.header("ETag", etag);
  if (header(request, http::field::if_none_match) == etag) {
    r.status = 304;
    return r;
  }
  r.header("Content-Type", "application/ld+json");
  const auto all = hub.subscriptions.snapshot();
  if (subscriber) {
    for (const auto& info : all) {
      if (info->subscriber != *subscriber) continue;
      for (const auto& t : info->topics) {
        if (t != *topic) continue;
        auto j = subscription_json(*info, t, true, true);
        j["lastEventID"] = last_event_id;
        r.body = j.dump(2);
        return r;
      }
    }
    return text_error(404, "404 page not found");
  }
  nlohmann::ordered_json collection;
  collection["@context"] = kJsonLdContext;
  collection["id"] = current;
  collection["type"] = "Subscriptions";
  collection["lastEventID"] = last_event_id;
  collection["subscriptions"] = nlohmann::ordered_json::array();
  for (const auto& info : all) {
    for (const auto& t : info->topics) {
      if (topic && t != *topic) continue;
      collection["subscriptions"].push_back(subscription_json(*info, t, true, false));
    }
  }
  r.body = collection.dump(2);
  return r;
}

HttpResponse preflight(const HttpRequest& request, const HubConfig& config) {
  HttpResponse r;
  r.status = 204;
  add_cors(request, config, r);
  if (!r.headers.empty()) {
    r.header("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
        .header("Access-Control-Allow-Headers", "authorization, cache-control, content-type, last-event-id")
        .header("Access-Control-Max-Age", "600");
  }
  return r;
}

}  // namespace

void announce_subscription(HubContext& hub, const SubscriptionInfo& info, bool active) {
  for (const auto& topic : info.topics) {
    Update update;
    update.topics = {subscription_id(topic, info.subscriber)};
    update.is_private = true;
    update.id = new_urn_uuid();
    update.data = subscription_json(info, topic, active, true).dump(2);
    try {
      hub.publish(std::move(update));
    } catch (const RedisError& e) {
      shared::log::warn("subscription event not published", {{"error", e.what()}});
    }
  }
}

RequestOutcome handle_request(const HttpRequest& request, EventLoop& loop) {
  HubContext& hub = loop.hub();
  const HubConfig& config = hub.config;
  const std::string_view path = split_target(request.target()).path;
  RequestOutcome outcome;
  const auto method = request.method();
  if (method == http::verb::options) {
    outcome.response = preflight(request, config);
    return outcome;
  }
  if (path == kMercurePath) {
    if (method == http::verb::get) {
      outcome = subscribe(request, loop);
      if (outcome.stream) return outcome;
    } else if (method == http::verb::post) {
      outcome.response = publish(request, loop);
    } else {
      outcome.response = text_error(405, "Method Not Allowed");
    }
  } else if (path == kSubscriptionsPath || path.substr(0, kSubscriptionsPath.size() + 1) == std::string(kSubscriptionsPath) + "/") {
    outcome.response = method == http::verb::get ? subscriptions_api(request, loop, path)
                                                  : text_error(405, "Method Not Allowed");
  } else if (path == "/healthz" && method == http::verb::get) {
    outcome.response.header("Content-Type", "application/json");
    outcome.response.body = hub.stopping.load() ? R"({"status":"stopping"})" : R"({"status":"ok"})";
    if (hub.stopping.load()) outcome.response.status = 503;
  } else if (path == "/metrics" && method == http::verb::get) {
    hub.metrics.history_size.set(static_cast<double>(hub.bus.history_size()));
    outcome.response.header("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    outcome.response.body = hub.registry.render();
  } else {
    outcome.response = text_error(404, "404 page not found");
  }
  add_cors(request, config, outcome.response);
  return outcome;
}

}  // namespace hub
