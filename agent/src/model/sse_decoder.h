// Splits a text/event-stream body into events, as the WHATWG "server-sent events" rules parse it:
// LF, CR or CRLF line ends, `data` lines joined with LF, `event` names, comments (`:` lines,
// keep-alives some servers send) ignored, a blank line dispatches. Bytes may arrive cut anywhere.
// One deviation, for llama.cpp's server: an `error:` field (not an SSE field; the spec would
// drop it) is kept as an event named "error". One event is bounded: past max_event_bytes the
// decoder fails instead of growing.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace agent::model {

struct SseEvent {
  std::string event;  // the `event:` name; empty means "message"
  std::string data;   // the `data:` lines joined with '\n'
};

class SseDecoder {
 public:
  explicit SseDecoder(std::size_t max_event_bytes) : max_event_bytes_(max_event_bytes) {}

  struct Result {
    std::vector<SseEvent> events;
    std::optional<std::string> error;  // set once, and every later feed fails the same way
  };
  Result feed(std::string_view bytes);
  // At the end of the body: an event whose data lines came but whose blank line did not is still
  // given out (servers that close right after the last `data:` line); a cut line is dropped.
  std::vector<SseEvent> finish();

 private:
  void take_line(std::string_view line, std::vector<SseEvent>& out);
  void dispatch(std::vector<SseEvent>& out);

  std::size_t max_event_bytes_;
  std::string line_;
  std::string event_;
  std::string data_;
  bool has_data_ = false;
  bool last_was_cr_ = false;
  std::optional<std::string> error_;
};

}  // namespace agent::model
