#include "shared/aws/clock_skew.h"

#include <ctime>
#include <set>

namespace shared::aws {

bool is_clock_skew_error(const std::string& code) {
  static const std::set<std::string> codes = {"RequestTimeTooSkewed",  "RequestExpired",
                                              "RequestInTheFuture",    "InvalidSignatureException",
                                              "SignatureDoesNotMatch", "AuthFailure"};
  return codes.count(code) > 0;
}

std::optional<std::chrono::system_clock::time_point> parse_http_date(const std::string& text) {
  std::tm tm{};
  const char* end = strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (end == nullptr || *end != '\0') return std::nullopt;
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

ClockSkew::ClockSkew(Clock clock) : clock_(std::move(clock)) {
  if (!clock_) clock_ = [] { return std::chrono::system_clock::now(); };
}

std::chrono::system_clock::time_point ClockSkew::now() const { return clock_() + offset(); }

bool ClockSkew::correct(const std::string& error_code, const std::string& date_header) {
  if (!is_clock_skew_error(error_code)) return false;
  const auto server = parse_http_date(date_header);
  if (!server) return false;
  const auto local = clock_();
  const auto skew = *server - (local + offset());
  if (skew < kThreshold && skew > -kThreshold) return false;
  offset_ms_ = std::chrono::duration_cast<std::chrono::milliseconds>(*server - local).count();
  return true;
}

}  // namespace shared::aws
