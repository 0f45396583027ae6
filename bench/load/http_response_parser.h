// Incremental parser for HTTP/1.1 responses as a load generator sees them: a status line,
// headers, then a body framed by Content-Length, chunked transfer coding or the connection's end.
// Body bytes are handed out as they arrive (SSE streams never end), so nothing is buffered past
// the current header block. Malformed or oversized input is an error result, never a crash.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace bench {

class HttpResponseParser {
 public:
  enum class Status { kNeedMore, kComplete, kError };

  // The largest header block accepted; real responses here are a few hundred bytes.
  static constexpr std::size_t kMaxHeaderBytes = 16 * 1024;

  using BodySink = std::function<void(std::string_view)>;

  // Feeds bytes; body pieces go to `sink`. Returns kComplete once a whole response has been
  // read (bytes after it are left unread: `consumed` says how many were used), kError on bad
  // input (error() says why).
  Status feed(std::string_view bytes, const BodySink& sink, std::size_t& consumed);
  // The peer closed the connection: completes a close-delimited body, else an error.
  Status finish_on_close();

  // Ready for the next response on the same keep-alive connection.
  void reset();

  bool headers_done() const { return state_ > State::kHeaders; }
  int status_code() const { return status_code_; }
  bool keep_alive() const { return keep_alive_; }
  const std::string& error() const { return error_; }

 private:
  enum class State {
    kHeaders,
    kBodyLength,
    kChunkSize,
    kChunkData,
    kChunkDataEnd,
    kTrailers,
    kBodyUntilClose,
    kDone,
    kFailed
  };

  Status fail(std::string why);
  bool parse_header_block(std::string_view block);

  State state_ = State::kHeaders;
  std::string pending_;  // partial header block, chunk-size line or trailer
  int status_code_ = 0;
  bool keep_alive_ = true;
  std::size_t remaining_ = 0;  // of the current chunk or Content-Length body
  std::string error_;
};

}  // namespace bench
