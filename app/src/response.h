// One response before it is framed: status, headers and a body that is either owned or a view of
// static storage (the embedded UI files). The connection adds framing (Content-Length or chunked),
// Connection, Date, X-Request-Id and the security headers; handlers never write those.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace app {

struct Response {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string_view static_body;  // used when body is empty

  // Replaces every field of that name (any letter case) with one.
  Response& set_header(std::string name, std::string value);
  const std::string* header(std::string_view name) const;
  std::string_view body_view() const { return body.empty() ? static_body : std::string_view(body); }
};

Response json_response(int status, const nlohmann::json& body);
// {"error":{"code","message"}} with the status.
Response error_response(int status, const std::string& code, const std::string& message);
// "Not Found" for 404; "" for unknown statuses.
std::string_view reason_phrase(int status);
// A status that carries no body (1xx, 204, 304).
inline bool bodiless_status(int status) { return status < 200 || status == 204 || status == 304; }

}  // namespace app
