// Splits a text/event-stream body into events (WHATWG HTML "server-sent events" parsing rules:
// LF, CR or CRLF line ends, "data" lines joined with LF, "id", comments ignored, a blank line
// dispatches). Only what a load generator needs: no event-type routing, no retry handling.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace bench {

struct SseEvent {
  std::string_view id;    // empty when the event had no id line
  std::string_view data;  // data lines joined with '\n'
};

class SseEventParser {
 public:
  // One event larger than this is an error: a stream that never sends a blank line must not
  // grow memory without end.
  static constexpr std::size_t kMaxEventBytes = 1024 * 1024;

  using EventSink = std::function<void(const SseEvent&)>;

  // Returns false (and stays failed) when an event grows past kMaxEventBytes.
  bool feed(std::string_view bytes, const EventSink& sink);
  // Heartbeat comments seen so far.
  std::size_t comments() const { return comments_; }

 private:
  void take_line(std::string_view line, const EventSink& sink);

  std::string line_;
  std::string data_;
  std::string id_;
  bool has_data_ = false;
  bool last_was_cr_ = false;
  bool failed_ = false;
  std::size_t comments_ = 0;
};

}  // namespace bench
