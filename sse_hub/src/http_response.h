// Plain HTTP/1.1 responses of the hub (everything but the event stream), rendered to bytes by
// hand: the hub writes them on its own sockets, without a per-response framework object.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace hub {

struct HttpResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // The head of an open-ended answer (an event stream's, for HEAD): no Content-Length.
  bool open_ended = false;

  HttpResponse& header(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
    return *this;
  }
};

std::string_view reason_phrase(int status);

// A text/plain response like Go's http.Error (body = message + "\n").
HttpResponse text_error(int status, const std::string& message);
// The status text itself as the message ("Unauthorized").
HttpResponse status_error(int status);

// Status line, headers, Content-Length and Connection, then the body (none for a HEAD request,
// whose answer still describes the body a GET would get).
std::string render(const HttpResponse& response, bool keep_alive, bool with_body = true);

}  // namespace hub
