#include "http_response_parser.h"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace bench {
namespace {

constexpr std::size_t kMaxChunkLineBytes = 1024;

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) {
    text.remove_suffix(1);
  }
  return text;
}

}  // namespace

void HttpResponseParser::reset() {
  state_ = State::kHeaders;
  pending_.clear();
  status_code_ = 0;
  keep_alive_ = true;
  remaining_ = 0;
  error_.clear();
}

HttpResponseParser::Status HttpResponseParser::fail(std::string why) {
  state_ = State::kFailed;
  error_ = std::move(why);
  return Status::kError;
}

bool HttpResponseParser::parse_header_block(std::string_view block) {
  // Status line: HTTP/1.x SP code SP reason
  const auto line_end = block.find("\r\n");
  const std::string_view status_line = block.substr(0, line_end);
  if (status_line.size() < 12 || status_line.substr(0, 7) != "HTTP/1.") {
    error_ = "bad status line";
    return false;
  }
  const bool http10 = status_line[7] == '0';
  const std::string_view code = status_line.substr(9, 3);
  auto [end, ec] = std::from_chars(code.data(), code.data() + code.size(), status_code_);
  if (ec != std::errc() || end != code.data() + code.size()) {
    error_ = "bad status code";
    return false;
  }
  bool chunked = false;
  bool has_length = false;
  std::size_t length = 0;
  keep_alive_ = !http10;
  std::string_view rest =
      line_end == std::string_view::npos ? std::string_view{} : block.substr(line_end + 2);
  while (!rest.empty()) {
    const auto eol = rest.find("\r\n");
    const std::string_view line = rest.substr(0, eol);
    rest = eol == std::string_view::npos ? std::string_view{} : rest.substr(eol + 2);
    if (line.empty()) continue;
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) {
      error_ = "header line without colon";
      return false;
    }
    const std::string name = lower(trim(line.substr(0, colon)));
    const std::string value = lower(trim(line.substr(colon + 1)));
    if (name == "transfer-encoding") {
      chunked = value.find("chunked") != std::string::npos;
    } else if (name == "content-length") {
      auto [e, err] = std::from_chars(value.data(), value.data() + value.size(), length);
      if (err != std::errc() || e != value.data() + value.size()) {
        error_ = "bad content-length";
        return false;
      }
      has_length = true;
    } else if (name == "connection") {
      if (value.find("close") != std::string::npos) keep_alive_ = false;
      if (value.find("keep-alive") != std::string::npos) keep_alive_ = true;
    }
  }
  if (status_code_ == 204 || status_code_ == 304 || (status_code_ >= 100 && status_code_ < 200)) {
    state_ = State::kDone;
  } else if (chunked) {
    state_ = State::kChunkSize;
  } else if (has_length) {
    remaining_ = length;
    state_ = length == 0 ? State::kDone : State::kBodyLength;
  } else {
    keep_alive_ = false;
    state_ = State::kBodyUntilClose;
  }
  return true;
}

HttpResponseParser::Status HttpResponseParser::feed(std::string_view bytes, const BodySink& sink,
                                                    std::size_t& consumed) {
  consumed = 0;
  while (true) {
    switch (state_) {
      case State::kFailed:
        return Status::kError;
      case State::kDone:
        return Status::kComplete;
      case State::kHeaders: {
        if (bytes.empty()) return Status::kNeedMore;
        // Look for the blank line across what was kept and what just came.
        const std::size_t before = pending_.size();
        const std::size_t take = std::min(bytes.size(), kMaxHeaderBytes + 4 - before);
        pending_.append(bytes.substr(0, take));
        const auto end = pending_.find("\r\n\r\n", before >= 3 ? before - 3 : 0);
        if (end == std::string::npos) {
          if (pending_.size() > kMaxHeaderBytes) return fail("header block too large");
          consumed += take;
          bytes.remove_prefix(take);
          return Status::kNeedMore;
        }
        const std::size_t used = end + 4 - before;
        consumed += used;
        bytes.remove_prefix(used);
        std::string block = std::move(pending_);
        pending_.clear();
        block.resize(end);
        if (!parse_header_block(block)) return fail(error_);
        break;
      }
      case State::kBodyLength: {
        if (bytes.empty()) return Status::kNeedMore;
        const std::size_t take = std::min(bytes.size(), remaining_);
        sink(bytes.substr(0, take));
        remaining_ -= take;
        consumed += take;
        bytes.remove_prefix(take);
        if (remaining_ == 0) state_ = State::kDone;
        break;
      }
      case State::kBodyUntilClose: {
        if (!bytes.empty()) sink(bytes);
        consumed += bytes.size();
        return Status::kNeedMore;
      }
      case State::kChunkSize: {
        if (bytes.empty()) return Status::kNeedMore;
        const auto eol = bytes.find('\n');
        if (eol == std::string_view::npos) {
          pending_.append(bytes);
          consumed += bytes.size();
          if (pending_.size() > kMaxChunkLineBytes) return fail("chunk size line too long");
          return Status::kNeedMore;
        }
        pending_.append(bytes.substr(0, eol));
        consumed += eol + 1;
        bytes.remove_prefix(eol + 1);
        std::string_view line = trim(pending_);
        const auto extension = line.find(';');
        line = trim(line.substr(0, extension));
        std::size_t size = 0;
        auto [end, ec] = std::from_chars(line.data(), line.data() + line.size(), size, 16);
        if (line.empty() || ec != std::errc() || end != line.data() + line.size()) {
          return fail("bad chunk size");
        }
        pending_.clear();
        remaining_ = size;
        state_ = size == 0 ? State::kTrailers : State::kChunkData;
        break;
      }
      case State::kChunkData: {
        if (bytes.empty()) return Status::kNeedMore;
        const std::size_t take = std::min(bytes.size(), remaining_);
        sink(bytes.substr(0, take));
        remaining_ -= take;
        consumed += take;
        bytes.remove_prefix(take);
        if (remaining_ == 0) state_ = State::kChunkDataEnd;
        break;
      }
      case State::kChunkDataEnd: {
        // The CRLF after a chunk's data.
        if (bytes.empty()) return Status::kNeedMore;
        const auto eol = bytes.find('\n');
        if (eol == std::string_view::npos) {
          pending_.append(bytes);
          consumed += bytes.size();
          if (pending_.size() > 2) return fail("missing CRLF after chunk");
          return Status::kNeedMore;
        }
        pending_.append(bytes.substr(0, eol));
        consumed += eol + 1;
        bytes.remove_prefix(eol + 1);
        if (!trim(pending_).empty()) return fail("data after chunk");
        pending_.clear();
        state_ = State::kChunkSize;
        break;
      }
      case State::kTrailers: {
        if (bytes.empty()) return Status::kNeedMore;
        const auto eol = bytes.find('\n');
        if (eol == std::string_view::npos) {
          pending_.append(bytes);
          consumed += bytes.size();
          if (pending_.size() > kMaxHeaderBytes) return fail("trailers too large");
          return Status::kNeedMore;
        }
        pending_.append(bytes.substr(0, eol));
        consumed += eol + 1;
        bytes.remove_prefix(eol + 1);
        const bool blank = trim(pending_).empty();
        pending_.clear();
        if (blank) state_ = State::kDone;
        break;
      }
    }
  }
}

HttpResponseParser::Status HttpResponseParser::finish_on_close() {
  if (state_ == State::kBodyUntilClose || state_ == State::kDone) {
    state_ = State::kDone;
    return Status::kComplete;
  }
  return fail("connection closed mid-response");
}

}  // namespace bench
