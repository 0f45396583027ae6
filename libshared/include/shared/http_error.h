// Errors that map to HTTP responses: thrown by handlers, rendered as
// {"error":{"code":"...","message":"..."}} with the status they carry.
#pragma once

#include <stdexcept>
#include <string>

namespace shared::http {

class HttpError : public std::runtime_error {
 public:
  HttpError(int status, std::string code, const std::string& message)
      : std::runtime_error(message), status_(status), code_(std::move(code)) {}
  int status() const { return status_; }
  const std::string& code() const { return code_; }

 private:
  int status_;
  std::string code_;
};

inline HttpError bad_request(const std::string& message) { return {400, "bad_request", message}; }
inline HttpError not_found(const std::string& message) { return {404, "not_found", message}; }
inline HttpError unauthorized(const std::string& message) { return {401, "unauthorized", message}; }
inline HttpError conflict(const std::string& message) { return {409, "conflict", message}; }

// The JSON body of an error response.
std::string error_body(const std::string& code, const std::string& message);

}  // namespace shared::http
