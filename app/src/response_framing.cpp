#include "response_framing.h"

#include <cstdio>
#include <ctime>

#include "request.h"

namespace app {
namespace {

bool framing_header(std::string_view name) {
  return iequals(name, "Content-Length") || iequals(name, "Transfer-Encoding") ||
         iequals(name, "Connection") || iequals(name, "Date") || iequals(name, "Keep-Alive");
}

bool printable(std::string_view s) {
  for (unsigned char c : s)
    if (c == '\r' || c == '\n' || c == '\0') return false;
  return true;
}

}  // namespace

const std::string& http_date() {
  thread_local std::time_t cached_second = 0;
  thread_local std::string cached;
  const std::time_t now = std::time(nullptr);
  if (now != cached_second) {
    std::tm tm{};
    gmtime_r(&now, &tm);
    char text[64];
    std::strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    cached = text;
    cached_second = now;
  }
  return cached;
}

std::string chunk_size_line(std::size_t size) {
  char text[24];
  std::snprintf(text, sizeof text, "%zx\r\n", size);
  return text;
}

FramedHead frame_head(const Response& response, const HeadFraming& framing) {
  FramedHead head;
  head.keep_alive = framing.keep_alive;
  std::string& out = head.text;
  out.reserve(768);
  out += "HTTP/1.1 ";
  out += std::to_string(response.status);
  out += ' ';
  out += reason_phrase(response.status);
  out += "\r\n";
  for (const auto& [name, value] : response.headers) {
    if (framing_header(name) || !printable(name) || !printable(value)) continue;
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  }
  out += "Date: ";
  out += http_date();
  out += "\r\n";
  if (!framing.request_id.empty()) {
    out += "X-Request-Id: ";
    out += framing.request_id;
    out += "\r\n";
  }
  if (framing.stream) {
    if (framing.version >= 11) {
      head.chunked = true;
      out += "Transfer-Encoding: chunked\r\n";
    } else {
      head.keep_alive = false;
    }
  } else if (!bodiless_status(response.status)) {
    out += "Content-Length: " + std::to_string(response.body_view().size()) + "\r\n";
  }
  if (!head.keep_alive) {
    out += "Connection: close\r\n";
  } else if (framing.version < 11) {
    out += "Connection: keep-alive\r\n";
  }
  out += "\r\n";
  return head;
}

}  // namespace app
