// Per-user request rate limit for /api: a token bucket per user (APP_RATE_LIMIT_PER_MINUTE
// refill, APP_RATE_LIMIT_BURST capacity). The number of users tracked is bounded
// (APP_RATE_LIMIT_MAX_USERS): past it, buckets that have refilled completely are forgotten,
// since forgetting them changes nothing.
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <unordered_map>

namespace app {

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  RateLimiter(double per_minute, double burst, std::size_t max_users);

  // Zero when the request may go ahead (and takes one token), otherwise the seconds to wait.
  int take(const std::string& user, Clock::time_point now = Clock::now());
  std::size_t tracked_users() const;

 private:
  struct Bucket {
    double tokens;
    Clock::time_point updated;
  };
  void forget_full_buckets(Clock::time_point now);

  double per_second_;
  double burst_;
  std::size_t max_users_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace app
