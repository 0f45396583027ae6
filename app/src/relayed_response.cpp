#include "relayed_response.h"

#include <algorithm>
#include <array>
#include <cstdlib>

#include "shared/http_server.h"
#include "shared/logging.h"

namespace app {
namespace {

// End-to-end response headers the app passes on; everything else stays behind (internal
// addresses in Link, cookies of other services, server banners).
constexpr std::array<const char*, 8> kPassedHeaders = {"cache-control", "etag", "last-modified", "location",
                                                       "retry-after", "last-event-id", "content-language",
                                                       "x-accel-buffering"};

bool passed_on(const std::string& name) {
  for (const char* h : kPassedHeaders)
    if (name == h) return true;
  return false;
}

std::string header_of(const shared::http::HeaderList& headers, const std::string& name) {
  for (const auto& [k, v] : headers)
    if (k == name) return v;
  return {};
}

}  // namespace

bool is_hop_by_hop(const std::string& n) {
  return n == "connection" || n == "keep-alive" || n == "proxy-authenticate" || n == "proxy-authorization" ||
         n == "te" || n == "trailer" || n == "transfer-encoding" || n == "upgrade" || n == "content-length";
}

void send_relayed(const std::shared_ptr<UpstreamRelay>& relay, httplib::Response& res, const RelayOptions& options) {
  auto done = std::make_shared<std::function<void()>>(options.on_done);
  auto finish = [done] {
    if (*done) {
      (*done)();
      *done = nullptr;
    }
  };
  auto head = relay->wait_head(options.head_timeout);
  if (!head) {
    const auto failure = relay->failure();
    if (failure == UpstreamRelay::Failure::kNone && !options.silent_stream_content_type.empty()) {
      head = UpstreamRelay::Head{200, {{"content-type", options.silent_stream_content_type}}};
    } else {
      relay->cancel();
      finish();
      if (failure == UpstreamRelay::Failure::kConnect || failure == UpstreamRelay::Failure::kOther) {
        shared::log::warn("upstream unavailable", {{"upstream", options.upstream_name}, {"error", relay->failure_message()}});
        shared::http::send_error(res, 502, options.upstream_name + "_unavailable",
                                 "the " + options.upstream_name + " is not reachable");
      } else {
        shared::log::warn("upstream timed out", {{"upstream", options.upstream_name}});
        shared::http::send_error(res, 504, options.upstream_name + "_timeout",
                                 "the " + options.upstream_name + " did not answer in time");
      }
      return;
    }
  }

  res.status = static_cast<int>(head->status);
  for (const auto& [name, value] : head->headers) {
    if (is_hop_by_hop(name) || !passed_on(name)) continue;
    res.set_header(name, value);
  }
  std::string content_type = header_of(head->headers, "content-type");
  if (content_type.empty()) content_type = "application/octet-stream";

  const std::string length_text = header_of(head->headers, "content-length");
  char* end = nullptr;
  const unsigned long long length = std::strtoull(length_text.c_str(), &end, 10);
  const bool small_known_length = !length_text.empty() && end && *end == '\0' && length <= options.whole_body_bound;
  if (small_known_length || head->status == 204 || head->status == 304) {
    auto body = relay->wait_whole(options.body_timeout);
    finish();
    if (!body) {
      relay->cancel();
      res.headers.clear();
      shared::http::send_error(res, 502, options.upstream_name + "_unavailable",
                               "the " + options.upstream_name + " answer broke off");
      return;
    }
    if (head->status == 204 || head->status == 304) return;
    res.set_content(*body, content_type);
    return;
  }

  // Streamed: hand over pieces as they come; the releaser runs when the response is over,
  // whether it ended or the client left.
  struct StreamState {
    bool at_event_boundary = true;
    std::chrono::steady_clock::time_point last_write = std::chrono::steady_clock::now();
  };
  auto stream = std::make_shared<StreamState>();
  const bool event_stream = content_type.rfind("text/event-stream", 0) == 0;
  const auto idle_interval = event_stream ? options.idle_comment_interval : std::chrono::milliseconds(0);
  const auto wait = idle_interval.count() > 0 ? std::min<std::chrono::milliseconds>(idle_interval, std::chrono::seconds(1))
                                              : std::chrono::milliseconds(1000);
  res.set_chunked_content_provider(
      content_type,
      [relay, stream, idle_interval, wait](std::size_t, httplib::DataSink& sink) {
        auto piece = relay->take(wait);
        const auto now = std::chrono::steady_clock::now();
        if (!piece.bytes.empty()) {
          if (!sink.write(piece.bytes.data(), piece.bytes.size())) {
            relay->cancel();
            return false;
          }
          stream->last_write = now;
          const auto& b = piece.bytes;
          stream->at_event_boundary = (b.size() >= 2 && b.compare(b.size() - 2, 2, "\n\n") == 0) ||
                                      (b.size() >= 4 && b.compare(b.size() - 4, 4, "\r\n\r\n") == 0);
        } else if (idle_interval.count() > 0 && stream->at_event_boundary && now - stream->last_write >= idle_interval) {
          static constexpr char kComment[] = ":\n\n";
          if (!sink.write(kComment, sizeof kComment - 1)) {
            relay->cancel();
            return false;
          }
          stream->last_write = now;
        }
        if (piece.finished) sink.done();
        return true;
      },
      [relay, finish](bool) {
        relay->cancel();
        finish();
      });
}

}  // namespace app
