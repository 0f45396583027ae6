#include "http_response.h"

namespace hub {

std::string_view reason_phrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 204:
      return "No Content";
    case 304:
      return "Not Modified";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 413:
      return "Request Entity Too Large";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return "Unknown";
  }
}

HttpResponse text_error(int status, const std::string& message) {
  HttpResponse r;
  r.status = status;
  r.header("Content-Type", "text/plain; charset=utf-8").header("X-Content-Type-Options", "nosniff");
  r.body = message + "\n";
  return r;
}

HttpResponse status_error(int status) {
  return text_error(status, std::string(reason_phrase(status)));
}

std::string render(const HttpResponse& response, bool keep_alive, bool with_body) {
  std::string out;
  out.reserve(256 + response.body.size());
  out += "HTTP/1.1 ";
  out += std::to_string(response.status);
  out += ' ';
  out += reason_phrase(response.status);
  out += "\r\n";
  for (const auto& [name, value] : response.headers) {
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  }
  const bool has_body = response.status != 204 && response.status != 304;
  if (has_body && !response.open_ended)
    out += "Content-Length: " + std::to_string(response.body.size()) + "\r\n";
  out += keep_alive ? "Connection: keep-alive\r\n" : "Connection: close\r\n";
  out += "\r\n";
  if (has_body && with_body) out += response.body;
  return out;
}

}  // namespace hub
