#include "model/sse_decoder.h"

namespace agent::model {

SseDecoder::Result SseDecoder::feed(std::string_view bytes) {
  Result result;
  if (error_) {
    result.error = error_;
    return result;
  }
  for (const char c : bytes) {
    if (c == '\n' && last_was_cr_) {  // the LF of a CRLF: the line already ended at the CR
      last_was_cr_ = false;
      continue;
    }
    last_was_cr_ = c == '\r';
    if (c == '\r' || c == '\n') {
      take_line(line_, result.events);
      line_.clear();
      continue;
    }
    line_ += c;
    if (line_.size() + data_.size() > max_event_bytes_) {
      error_ = "an event is larger than " + std::to_string(max_event_bytes_) + " bytes";
      break;
    }
  }
  result.error = error_;
  return result;
}

std::vector<SseEvent> SseDecoder::finish() {
  std::vector<SseEvent> out;
  if (!error_) dispatch(out);
  line_.clear();
  return out;
}

void SseDecoder::take_line(std::string_view line, std::vector<SseEvent>& out) {
  if (line.empty()) {
    dispatch(out);
    return;
  }
  if (line.front() == ':') return;  // a comment
  const auto colon = line.find(':');
  std::string_view field = line.substr(0, colon);
  std::string_view value =
      colon == std::string_view::npos ? std::string_view() : line.substr(colon + 1);
  if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  if (field == "data") {
    if (has_data_) data_ += '\n';
    data_.append(value);
    has_data_ = true;
  } else if (field == "event") {
    event_ = std::string(value);
  } else if (field == "error") {
    // llama.cpp's server reports a failure mid-stream as `error: {json}`.
    dispatch(out);
    out.push_back(SseEvent{"error", std::string(value)});
  }
  // id and retry matter for reconnecting EventSources, not for one POST's answer.
}

void SseDecoder::dispatch(std::vector<SseEvent>& out) {
  if (has_data_) out.push_back(SseEvent{event_, data_});
  event_.clear();
  data_.clear();
  has_data_ = false;
}

}  // namespace agent::model
