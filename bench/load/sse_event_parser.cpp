#include "sse_event_parser.h"

namespace bench {

void SseEventParser::take_line(std::string_view line, const EventSink& sink) {
  if (line.empty()) {
    if (has_data_) sink(SseEvent{id_, data_});
    data_.clear();
    has_data_ = false;
    return;
  }
  if (line.front() == ':') {
    ++comments_;
    return;
  }
  const auto colon = line.find(':');
  std::string_view field = line.substr(0, colon);
  std::string_view value =
      colon == std::string_view::npos ? std::string_view{} : line.substr(colon + 1);
  if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  if (field == "data") {
    if (has_data_) data_ += '\n';
    data_.append(value);
    has_data_ = true;
  } else if (field == "id") {
    // The id persists across events until changed, as in the browser.
    if (value.find('\0') == std::string_view::npos) id_.assign(value);
  }
}

bool SseEventParser::feed(std::string_view bytes, const EventSink& sink) {
  if (failed_) return false;
  std::size_t start = 0;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    const char c = bytes[i];
    if (c != '\n' && c != '\r') continue;
    if (c == '\n' && last_was_cr_ && i == start && line_.empty()) {
      // The LF of a CRLF whose CR ended the previous line.
      start = i + 1;
      last_was_cr_ = false;
      continue;
    }
    if (line_.empty()) {
      take_line(bytes.substr(start, i - start), sink);
    } else {
      line_.append(bytes.substr(start, i - start));
      take_line(line_, sink);
      line_.clear();
    }
    last_was_cr_ = c == '\r';
    start = i + 1;
  }
  if (start < bytes.size()) {
    line_.append(bytes.substr(start));
    last_was_cr_ = false;
  }
  if (line_.size() + data_.size() > kMaxEventBytes) {
    failed_ = true;
    return false;
  }
  return true;
}

}  // namespace bench
