// The hub's HTTP endpoints: publish and subscribe on /.well-known/mercure (GET, HEAD and POST),
// the subscriptions API, CORS preflights, /healthz and /metrics. Runs on the connection's event
// loop and decides what the connection does next: answer, start streaming, or wait for Redis.
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <optional>

#include "connection.h"
#include "http_response.h"
#include "update.h"

namespace hub {

class EventLoop;

inline constexpr std::string_view kMercurePath = "/.well-known/mercure";

// A publish that goes through Redis (scale-out): the connection answers once Redis has taken
// the update (`accepted`) or has not within HUB_REDIS_TIMEOUT (`refused`, a 503).
struct PendingPublish {
  Update update;
  HttpResponse accepted;
  HttpResponse refused;
};

struct RequestOutcome {
  HttpResponse response;                  // used when neither of the two below is set
  std::optional<StreamStart> stream;      // start streaming
  std::optional<PendingPublish> pending;  // answer when Redis has answered
};

using HttpRequest = boost::beast::http::request<boost::beast::http::string_body>;

RequestOutcome handle_request(const HttpRequest& request, EventLoop& loop);

}  // namespace hub
