#include "mercure_endpoints.h"

#include <boost/beast/http.hpp>

#include "event_loop.h"
#include "hub_context.h"
#include "protocol_string.h"
#include "redis_bridge.h"
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

constexpr auto kSafeJson = nlohmann::json::error_handler_t::replace;

// The CORS response headers for an allowed Origin, none otherwise. As the reference hub: with "*"
// any origin may read, without credentials (browsers refuse "*" with credentials, and echoing
// the origin instead would hand a visitor's cookie-authorized streams to every site).
// Last-Event-ID is exposed so that a cross-origin fetch client can read where its stream starts.
void add_cors(const HttpRequest& request, const HubConfig& config, HttpResponse& response,
              bool preflight = false) {
  const std::string origin = header(request, http::field::origin);
  if (origin.empty()) return;
  bool any = false;
  bool listed = false;
  for (const auto& allowed : config.cors_origins) {
    any = any || allowed == "*";
    listed = listed || allowed == origin;
  }
  if (!any && !listed) return;
  if (any) {
    response.header("Access-Control-Allow-Origin", "*");
  } else {
    response.header("Access-Control-Allow-Origin", origin)
        .header("Access-Control-Allow-Credentials", "true");
  }
  response.header("Vary", "Origin");
  if (!preflight) response.header("Access-Control-Expose-Headers", "Last-Event-ID");
}

AuthorizationInput authorization_input(const HttpRequest& request, const FormFields& query) {
  AuthorizationInput input;
  for (auto [it, end] = request.equal_range(http::field::authorization); it != end; ++it) {
    input.authorization_headers.emplace_back(it->value());
  }
  input.query_tokens = form_values(query, "authorization");
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

// Checks in the reference hub's order: the token (401), the form (400), the token's
// mercure.publish against the topics (401), then the update itself (403 reserved topic, 400).
RequestOutcome publish(const HttpRequest& request, EventLoop& loop) {
  HubContext& hub = loop.hub();
  RequestOutcome outcome;
  const auto query = parse_form(split_target(request.target()).query);
  if (!query) {
    outcome.response = text_error(400, "Bad Request");
    return outcome;
  }
  const auto auth = hub.publisher.authorize(authorization_input(request, *query));
  if (!auth.ok() || !auth.claims || !auth.claims->publish) {
    outcome.response =
        unauthorized(hub, auth.ok() ? "no token with a mercure.publish claim" : auth.error);
    return outcome;
  }
  const auto form = parse_form(request.body());
  if (!form) {
    outcome.response = text_error(400, "Bad Request");
    return outcome;
  }
  PublishForm parsed = read_publish_form(*form, hub.config.max_topics);
  if (parsed.error) {
    outcome.response = text_error(parsed.error->status, parsed.error->message);
    return outcome;
  }
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
    if (!allowed) {
      outcome.response = unauthorized(hub, "topic not allowed by mercure.publish");
      return outcome;
    }
  }
  if (auto invalid = validate_update(update)) {
    outcome.response = text_error(invalid->status, invalid->message);
    return outcome;
  }
  HttpResponse accepted;
  accepted.header("Content-Type", "text/plain; charset=utf-8");
  accepted.body = update.id;
  if (hub.redis != nullptr) {
    outcome.pending = PendingPublish{std::move(update), std::move(accepted),
                                     text_error(503, "Service Unavailable")};
    return outcome;
  }
  hub.bus.publish(std::move(update));
  hub.metrics.published.inc();
  outcome.response = std::move(accepted);
  return outcome;
}

// The headers of an event stream (and of the answer to a HEAD for one), CORS aside.
HttpResponse stream_response(const std::string* last_event_id) {
  HttpResponse r;
  r.open_ended = true;
  r.header("Content-Type", "text/event-stream")
      .header("Cache-Control", "private, no-cache, no-store, must-revalidate, max-age=0")
      .header("Pragma", "no-cache")
      .header("Expires", "0")
      .header("X-Accel-Buffering", "no");
  if (last_event_id != nullptr) r.header("Last-Event-ID", *last_event_id);
  return r;
}

// Everything is checked before anything happens (a subscription event, a registration), so a
// refused request leaves no trace. HEAD runs the same checks and answers the stream's headers.
RequestOutcome subscribe(const HttpRequest& request, EventLoop& loop) {
  HubContext& hub = loop.hub();
  const HubConfig& config = hub.config;
  const bool head_only = request.method() == http::verb::head;
  RequestOutcome outcome;
  const auto query = parse_form(split_target(request.target()).query);
  if (!query) {
    outcome.response = text_error(400, "Bad Request");
    return outcome;
  }
  const auto auth = hub.subscriber.authorize(authorization_input(request, *query));
  if (!auth.ok() || (!auth.claims && !config.anonymous)) {
    outcome.response =
        unauthorized(hub, auth.ok() ? "no token and MERCURE_ANONYMOUS is off" : auth.error);
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
  for (const auto& topic : topics) {
    if (!is_protocol_string(topic)) {
      outcome.response =
          text_error(400, "topic contains a forbidden control character or invalid UTF-8");
      return outcome;
    }
  }
  std::string last_event_id = std::string(request["Last-Event-ID"]);
  if (last_event_id.empty()) last_event_id = form_value(*query, "lastEventID").value_or("");
  const bool resuming = !last_event_id.empty();

  if (head_only) {
    const std::string newest = hub.bus.attach("").last_event_id;
    outcome.response = stream_response(resuming ? &newest : nullptr);
    return outcome;
  }

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
  start.chunked = request.version() >= 11;
  for (const auto& update : attachment.replay.updates) {
    if (update->sequence <= attachment.sequence && subscriber->wants(*update, loop.selectors())) {
      start.replay.push_back(update);
    }
  }
  HttpResponse head = stream_response(resuming ? &attachment.last_event_id : nullptr);
  add_cors(request, config, head);
  // The connection set the request's id (the client's, or a new one) before routing it here.
  if (const auto id = request[kRequestIdHeader]; !id.empty())
    head.header(std::string(kRequestIdHeader), std::string(id));
  if (start.chunked) head.header("Transfer-Encoding", "chunked");
  // The connection ends with the stream (token expiry, a drop, a drain): Connection: close says
  // so up front, or a client that saw the final chunk would put the socket back in its pool and
  // send its next request (a publish, say) into a socket the hub is closing. An HTTP/1.0 client
  // reads the events until the connection closes.
  start.head = render(head, false, false);
  const auto comment = [&](std::string_view text) {
    start.head += start.chunked ? http_chunk(text) : std::string(text);
  };
  // A comment makes the headers and the stream visible to the client at once.
  comment(":\n");
  if (resuming && !attachment.replay.found) {
    comment(": Last-Event-ID not found in the history: nothing replayed\n");
    shared::log::debug("unknown Last-Event-ID", {{"subscriber", subscriber->id}});
  }
  // The stream lasts as long as the token is accepted: up to exp plus the leeway.
  if (auth.claims && auth.claims->expires_at)
    start.expires_at = *auth.claims->expires_at + config.jwt_leeway;
  start.info = std::move(info);
  shared::log::debug("subscriber connected", {{"subscriber", subscriber->id},
                                              {"topics", subscriber->topics},
                                              {"replayed", start.replay.size()}});
  start.subscriber = std::move(subscriber);
  outcome.stream = std::move(start);
  return outcome;
}

std::string etag_for(const std::string& last_event_id) {
  std::string out = "\"";
  for (char c : last_event_id) {
    if (c == '%')
      out += "%25";
    else if (c == '"')
      out += "%22";
    else
      out += c;
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
    // "/subscriptions/" and "/subscriptions//x" name no topic: no route, as in the reference hub.
    if (rest.empty() || rest.front() == '/') return text_error(404, "404 page not found");
    const std::size_t slash = rest.find('/');
    topic = form_decode(rest.substr(0, slash));
    if (!topic) return text_error(400, "invalid topic segment");
    if (slash != std::string_view::npos) {
      const std::string_view sub = rest.substr(slash + 1);
      if (sub.empty() || sub.find('/') != std::string_view::npos)
        return text_error(404, "404 page not found");
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
  for (const auto& selector : *auth.claims->subscribe)
    allowed = allowed || loop.selectors().matches(current, selector);
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
        r.body = j.dump(2, ' ', false, kSafeJson);
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
  r.body = collection.dump(2, ' ', false, kSafeJson);
  return r;
}

HttpResponse preflight(const HttpRequest& request, const HubConfig& config) {
  HttpResponse r;
  r.status = 204;
  add_cors(request, config, r, true);
  if (!r.headers.empty()) {
    r.header("Access-Control-Allow-Methods", "GET, HEAD, POST, OPTIONS")
        .header("Access-Control-Allow-Headers",
                "authorization, cache-control, content-type, last-event-id")
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
    update.data = subscription_json(info, topic, active, true).dump(2, ' ', false, kSafeJson);
    if (hub.redis == nullptr) {
      hub.bus.publish(std::move(update));
    } else if (!hub.redis->publish(update, nullptr)) {
      // Queued for Redis like a publish, never waited for: a subscriber does not wait on Redis.
      shared::log::warn("subscription event not published: Redis is down or its queue is full",
                        {{"topic", update.topics.front()}});
    }
  }
}

RequestOutcome handle_request(const HttpRequest& request, EventLoop& loop) {
  HubContext& hub = loop.hub();
  const HubConfig& config = hub.config;
  const std::string_view path = split_target(request.target()).path;
  RequestOutcome outcome;
  const auto method = request.method();
  const bool get_or_head = method == http::verb::get || method == http::verb::head;
  if (method == http::verb::options) {
    outcome.response = preflight(request, config);
    return outcome;
  }
  if (path == kMercurePath) {
    if (get_or_head) {
      outcome = subscribe(request, loop);
      if (outcome.stream) return outcome;
    } else if (method == http::verb::post) {
      outcome = publish(request, loop);
      if (outcome.pending) {
        add_cors(request, config, outcome.pending->accepted);
        add_cors(request, config, outcome.pending->refused);
        return outcome;
      }
    } else {
      outcome.response = text_error(405, "Method Not Allowed");
    }
  } else if (path == kSubscriptionsPath || path.substr(0, kSubscriptionsPath.size() + 1) ==
                                               std::string(kSubscriptionsPath) + "/") {
    outcome.response = method == http::verb::get ? subscriptions_api(request, loop, path)
                                                 : text_error(405, "Method Not Allowed");
  } else if (path == "/healthz" && get_or_head) {
    outcome.response.header("Content-Type", "application/json");
    outcome.response.body = hub.stopping.load() ? R"({"status":"stopping"})" : R"({"status":"ok"})";
    if (hub.stopping.load()) outcome.response.status = 503;
  } else if (path == "/metrics" && method == http::verb::get) {
    hub.metrics.history_size.set(static_cast<double>(hub.bus.history_size()));
    hub.metrics.history_bytes.set(static_cast<double>(hub.bus.history_bytes()));
    outcome.response.header("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    outcome.response.body = hub.registry.render();
  } else {
    outcome.response = text_error(404, "404 page not found");
  }
  add_cors(request, config, outcome.response);
  return outcome;
}

}  // namespace hub
