#include "shared/aws/retry_strategy.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <set>
#include <thread>

namespace shared::aws {

bool is_throttling_error(const std::string& code) {
  static const std::set<std::string> codes = {"Throttling",
                                              "ThrottlingException",
                                              "ThrottledException",
                                              "RequestThrottledException",
                                              "TooManyRequestsException",
                                              "ProvisionedThroughputExceededException",
                                              "TransactionInProgressException",
                                              "RequestLimitExceeded",
                                              "BandwidthLimitExceeded",
                                              "LimitExceededException",
                                              "RequestThrottled",
                                              "SlowDown",
                                              "PriorRequestNotComplete",
                                              "EC2ThrottledException"};
  return codes.count(code) > 0;
}

bool is_transient_error(const std::string& code) {
  static const std::set<std::string> codes = {
      "RequestTimeout",          "RequestTimeoutException",     "InternalError",
      "InternalServerException", "ServiceUnavailableException", "ServiceUnavailable",
      "ModelNotReadyException"};
  return codes.count(code) > 0;
}

bool is_retryable(const AttemptFailure& failure) {
  if (failure.transport || failure.timeout || failure.clock_skew_corrected) return true;
  if (is_throttling_error(failure.error_code) || is_transient_error(failure.error_code))
    return true;
  return failure.status == 500 || failure.status == 502 || failure.status == 503 ||
         failure.status == 504 || failure.status == 429;
}

RetryStrategy::RetryStrategy(RetrySettings settings, Sleeper sleeper, RandomSource random)
    : settings_(settings),
      sleeper_(std::move(sleeper)),
      random_(std::move(random)),
      quota_(settings.quota_capacity) {
  if (!sleeper_) sleeper_ = [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); };
  if (!random_) {
    random_ = [] {
      thread_local std::mt19937_64 engine{std::random_device{}()};
      return std::uniform_real_distribution<double>(0.0, 1.0)(engine);
    };
  }
}

int RetryStrategy::cost_of(const AttemptFailure& failure) const {
  return failure.timeout ? settings_.timeout_retry_cost : settings_.retry_cost;
}

std::chrono::milliseconds RetryStrategy::backoff(int attempt) {
  // Full jitter: a uniform draw over [0, min(base * 2^(attempt-1), cap)).
  const double exp_ms =
      static_cast<double>(settings_.base_delay.count()) * std::pow(2.0, std::max(0, attempt - 1));
  const double ceiling = std::min(exp_ms, static_cast<double>(settings_.max_backoff.count()));
  const double r = std::clamp(random_(), 0.0, 1.0);
  return std::chrono::milliseconds(static_cast<long long>(r * ceiling));
}

std::optional<std::chrono::milliseconds> RetryStrategy::on_failure(int attempt,
                                                                   const AttemptFailure& failure) {
  if (attempt >= settings_.max_attempts || !is_retryable(failure)) return std::nullopt;
  {
    std::lock_guard lock(mutex_);
    const int cost = cost_of(failure);
    if (quota_ < cost) return std::nullopt;
    quota_ -= cost;
  }
  return backoff(attempt);
}

void RetryStrategy::on_success(int retried_cost) {
  std::lock_guard lock(mutex_);
  quota_ = std::min(settings_.quota_capacity,
                    quota_ + (retried_cost > 0 ? retried_cost : settings_.success_increment));
}

void RetryStrategy::sleep(std::chrono::milliseconds delay) {
  if (delay.count() > 0) sleeper_(delay);
}

int RetryStrategy::quota_available() const {
  std::lock_guard lock(mutex_);
  return quota_;
}

}  // namespace shared::aws
