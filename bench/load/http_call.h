// One HTTP/1.1 request over a fresh loopback connection, blocking until the whole response or a
// deadline: the few control calls of the token-latency scenario (create a session, send a
// message, script the fake Bedrock), where a plain call reads better than the epoll driver.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace bench {

struct HttpCall {
  uint32_t destination = 0;  // network byte order
  int port = 0;
  std::string method = "GET";
  std::string path = "/";
  std::vector<std::string> headers;  // "Name: value"
  std::string body;                  // sent as application/json when not empty
  int timeout_ms = 10'000;
};

struct HttpCallResult {
  int status = 0;  // 0: no response (error says why)
  std::string body;
  std::string error;
};

HttpCallResult http_call(const HttpCall& call);

}  // namespace bench
