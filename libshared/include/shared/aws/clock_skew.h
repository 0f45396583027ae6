// Clock-skew correction as the AWS SDKs do it (JS v3's system clock offset, Java v2's
// ClockSkewAdjuster): a request signed with a clock that is more than 5 minutes off is refused
// (RequestTimeTooSkewed, InvalidSignatureException "Signature expired", ...). The error answer's
// Date header tells the server's time; the difference becomes an offset added to the local clock
// for every later signature, and the refused request is retried once corrected. This matters for
// containers and VMs whose clocks drift.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace shared::aws {

// The error codes services answer for a request signed at the wrong time.
bool is_clock_skew_error(const std::string& code);

// Parses an HTTP Date (IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT"). nullopt when malformed.
std::optional<std::chrono::system_clock::time_point> parse_http_date(const std::string& text);

class ClockSkew {
 public:
  using Clock = std::function<std::chrono::system_clock::time_point()>;
  // A server time this far from ours is skew, not latency or the Date header's 1 s resolution
  // (the Java SDK's threshold).
  static constexpr std::chrono::minutes kThreshold{4};

  explicit ClockSkew(Clock clock = nullptr);

  // The time to sign with: the local clock plus the learned offset.
  std::chrono::system_clock::time_point now() const;
  std::chrono::milliseconds offset() const { return std::chrono::milliseconds(offset_ms_.load()); }

  // After an error answer: when `error_code` is a clock-skew error and `date_header` is more than
  // kThreshold from now(), adopts the server's time and returns true (the request may be retried).
  // Thread-safe.
  bool correct(const std::string& error_code, const std::string& date_header);

 private:
  Clock clock_;
  std::atomic<std::int64_t> offset_ms_{0};
};

}  // namespace shared::aws
