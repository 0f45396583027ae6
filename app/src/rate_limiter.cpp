#include "rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace app {

RateLimiter::RateLimiter(double per_minute, double burst, std::size_t max_users)
    : per_second_(per_minute / 60.0), burst_(std::max(1.0, burst)), max_users_(max_users) {}

int RateLimiter::take(const std::string& user, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  auto it = buckets_.find(user);
  if (it == buckets_.end()) {
    if (buckets_.size() >= max_users_) forget_full_buckets(now);
    // Still full of active users: refuse newcomers briefly rather than grow without bound.
    if (buckets_.size() >= max_users_) return 1;
    it = buckets_.emplace(user, Bucket{burst_, now}).first;
  }
  Bucket& b = it->second;
  const double elapsed = std::chrono::duration<double>(now - b.updated).count();
  b.tokens = std::min(burst_, b.tokens + std::max(0.0, elapsed) * per_second_);
  b.updated = now;
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return 0;
  }
  return std::max(1, static_cast<int>(std::ceil((1.0 - b.tokens) / per_second_)));
}

void RateLimiter::forget_full_buckets(Clock::time_point now) {
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    const double elapsed = std::chrono::duration<double>(now - it->second.updated).count();
    if (it->second.tokens + elapsed * per_second_ >= burst_) {
      it = buckets_.erase(it);
    } else {
      ++it;
    }
  }
}

std::size_t RateLimiter::tracked_users() const {
  std::lock_guard lock(mutex_);
  return buckets_.size();
}

}  // namespace app
