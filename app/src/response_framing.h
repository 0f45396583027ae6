// How a response head goes on the wire: the status line, the handler's headers (minus any that
// describe framing or the connection, which are the server's to set, and any with a line break),
// Date, X-Request-Id, then Content-Length, or chunked encoding for a stream to an HTTP/1.1 client
// (an HTTP/1.0 client reads a stream to the end of the connection), and Connection. Pure, so the
// rules are tested without sockets.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "response.h"

namespace app {

struct HeadFraming {
  bool stream = false;     // the body follows in pieces
  int version = 11;        // of the request
  bool keep_alive = true;  // the connection stays open after this response
  std::string_view request_id;
};

struct FramedHead {
  std::string text;
  bool chunked = false;    // the body pieces go chunked
  bool keep_alive = true;  // false when the framing needs the connection closed
};

FramedHead frame_head(const Response& response, const HeadFraming& framing);
// "<size in hex>\r\n", the line before a chunk.
std::string chunk_size_line(std::size_t size);
// The current time as an HTTP date (RFC 9110 §5.6.7), computed once a second per thread.
const std::string& http_date();

}  // namespace app
