#include "http_call.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "http_response_parser.h"
#include "loopback_socket.h"

namespace bench {
namespace {

// Waits for `events` on fd until the deadline; false on timeout or error.
bool wait_for(int fd, short events, int64_t deadline_ns) {
  while (true) {
    const int64_t left_ms = (deadline_ns - monotonic_ns()) / 1'000'000;
    if (left_ms <= 0) return false;
    pollfd p{fd, events, 0};
    const int n = poll(&p, 1, static_cast<int>(left_ms));
    if (n > 0) return true;
    if (n < 0 && errno != EINTR) return false;
  }
}

std::string request_text(const HttpCall& call) {
  std::string text = call.method + " " + call.path +
                     " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(call.port) +
                     "\r\nConnection: close\r\nAccept: application/json\r\n";
  for (const auto& header : call.headers) text += header + "\r\n";
  if (!call.body.empty() || call.method == "POST") {
    text +=
        "Content-Type: application/json\r\nContent-Length: " + std::to_string(call.body.size()) +
        "\r\n";
  }
  return text + "\r\n" + call.body;
}

}  // namespace

HttpCallResult http_call(const HttpCall& call) {
  HttpCallResult result;
  const int64_t deadline = monotonic_ns() + static_cast<int64_t>(call.timeout_ms) * 1'000'000;
  const int fd = start_connect(loopback_address(1), call.destination, call.port);
  if (fd < 0) {
    result.error = std::string("connect: ") + std::strerror(-fd);
    return result;
  }
  auto fail = [&](std::string why) {
    close(fd);
    result.status = 0;
    result.error = std::move(why);
    return result;
  };
  if (!wait_for(fd, POLLOUT, deadline)) return fail("connect timed out");
  if (const int error = connect_result(fd); error != 0)
    return fail(std::string("connect: ") + std::strerror(error));
  const std::string request = request_text(call);
  std::size_t sent = 0;
  while (sent < request.size()) {
    const ssize_t n = send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<std::size_t>(n);
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (!wait_for(fd, POLLOUT, deadline)) return fail("send timed out");
    } else {
      return fail(std::string("send: ") + std::strerror(errno));
    }
  }
  HttpResponseParser parser;
  char buffer[16 * 1024];
  while (true) {
    if (!wait_for(fd, POLLIN, deadline)) return fail("no complete response in time");
    const ssize_t n = recv(fd, buffer, sizeof buffer, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n < 0) return fail(std::string("recv: ") + std::strerror(errno));
    HttpResponseParser::Status status;
    if (n == 0) {
      status = parser.finish_on_close();
    } else {
      std::size_t consumed = 0;
      status = parser.feed(
          std::string_view(buffer, static_cast<std::size_t>(n)),
          [&](std::string_view piece) { result.body.append(piece); }, consumed);
    }
    if (status == HttpResponseParser::Status::kComplete) break;
    if (status == HttpResponseParser::Status::kError)
      return fail("bad response: " + parser.error());
    if (n == 0) return fail("connection closed before the response was complete");
  }
  close(fd);
  result.status = parser.status_code();
  return result;
}

}  // namespace bench
