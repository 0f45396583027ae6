// The hub's HTTP endpoints: publish and subscribe on /.well-known/mercure, the subscriptions
// API, CORS preflights, /healthz and /metrics. Runs on the connection's event loop and decides
// what the connection does next: answer, or start streaming.
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <optional>

#include "connection.h"
#include "http_response.h"

namespace hub {

class EventLoop;

inline constexpr std::string_view kMercurePath = "/.well-known/mercure";

struct RequestOutcome {
  HttpResponse response;             // used when stream is empty
  std::optional<StreamStart> stream;
};

using HttpRequest = boost::beast::http::request<boost::beast::http::string_body>;

RequestOutcome handle_request(const HttpRequest& request, EventLoop& loop);

}  // namespace hub
