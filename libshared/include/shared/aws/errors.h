// Errors of the AWS layer: a service answered with an error (AwsError), or no credentials could
// be found (CredentialsError). Transport failures stay http::TransportError.
#pragma once

#include <stdexcept>
#include <string>

namespace shared::aws {

// A service's error answer. code() is the error type without its namespace (the part after '#'
// of __type or x-amzn-ErrorType, and before any ':'), e.g. "ThrottlingException".
class AwsError : public std::runtime_error {
 public:
  AwsError(std::string code, const std::string& message, int status, bool retryable,
           bool clock_skew_corrected = false)
      : std::runtime_error(code + ": " + message),
        code_(std::move(code)),
        status_(status),
        retryable_(retryable),
        clock_skew_corrected_(clock_skew_corrected) {}
  const std::string& code() const { return code_; }
  int status() const { return status_; }
  bool retryable() const { return retryable_; }
  // The answer was a clock-skew error and the signing clock has been corrected from its Date.
  bool clock_skew_corrected() const { return clock_skew_corrected_; }

 private:
  std::string code_;
  int status_;
  bool retryable_;
  bool clock_skew_corrected_;
};

// No provider of the chain could give credentials; what() names each provider tried and why.
class CredentialsError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Reads an error answer: the type from the x-amzn-ErrorType header or the body's __type/code,
// the message from message/Message. Never throws on malformed bodies.
struct ErrorShape {
  std::string code;
  std::string message;
};
ErrorShape parse_error_shape(const std::string& error_type_header, const std::string& body);

}  // namespace shared::aws
