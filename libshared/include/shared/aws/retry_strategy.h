// The AWS SDKs' "standard" retry mode: up to max_attempts tries, full-jitter exponential backoff
// (random * 2^(attempt-1) seconds, capped at 20 s), retries only for retryable error codes,
// statuses and transport failures, and a token bucket (the retry quota) so that a failing service
// is not hammered: each retry costs 5 tokens (10 after a timeout), each success gives back 1 (or
// what its retries took), and with too few tokens the error is returned at once.
// Time and randomness are injected so tests run without sleeping.
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>

namespace shared::aws {

struct RetrySettings {
  int max_attempts = 3;  // AWS_MAX_ATTEMPTS
  std::chrono::milliseconds base_delay{1'000};
  std::chrono::milliseconds max_backoff{20'000};
  int quota_capacity = 500;
  int retry_cost = 5;
  int timeout_retry_cost = 10;
  int success_increment = 1;
};

// What went wrong with one attempt, as the retry decision needs it.
struct AttemptFailure {
  std::string error_code;  // e.g. "ThrottlingException"; empty for transport failures
  int status = 0;          // HTTP status; 0 for transport failures
  bool transport = false;  // no response at all (connection refused, reset, ...)
  bool timeout = false;    // the attempt timed out
  // A clock-skew error after which the signing clock was corrected (clock_skew.h): retried, as
  // the SDKs retry a request refused for a skewed clock once they have adjusted it.
  bool clock_skew_corrected = false;
};

bool is_throttling_error(const std::string& code);
bool is_transient_error(const std::string& code);
bool is_retryable(const AttemptFailure& failure);

class RetryStrategy {
 public:
  using Sleeper = std::function<void(std::chrono::milliseconds)>;
  using RandomSource = std::function<double()>;  // uniform in [0, 1)

  explicit RetryStrategy(RetrySettings settings = {}, Sleeper sleeper = nullptr,
                         RandomSource random = nullptr);

  const RetrySettings& settings() const { return settings_; }

  // Called after attempt `attempt` (1-based) failed. Returns the delay before the next attempt,
  // having taken its cost from the quota, or nullopt when the failure must be returned.
  std::optional<std::chrono::milliseconds> on_failure(int attempt, const AttemptFailure& failure);
  // Called after an attempt succeeded; `retried_cost` is what on_failure took for this request.
  void on_success(int retried_cost);
  // The backoff for the retry after attempt `attempt`, without touching the quota.
  std::chrono::milliseconds backoff(int attempt);
  void sleep(std::chrono::milliseconds delay);
  int quota_available() const;
  // The cost that on_failure last charged for this failure kind.
  int cost_of(const AttemptFailure& failure) const;

 private:
  RetrySettings settings_;
  Sleeper sleeper_;
  RandomSource random_;
  mutable std::mutex mutex_;
  int quota_;
};

// Runs `attempt_fn` with retries. attempt_fn returns normally on success and throws on failure;
// classify turns the current exception into an AttemptFailure (return nullopt for errors that
// are never retried, they are rethrown at once).
template <typename Result, typename Fn, typename Classify>
Result run_with_retries(RetryStrategy& strategy, Fn&& attempt_fn, Classify&& classify) {
  int spent = 0;
  for (int attempt = 1;; ++attempt) {
    try {
      Result result = attempt_fn(attempt);
      strategy.on_success(spent);
      return result;
    } catch (...) {
      std::optional<AttemptFailure> failure = classify();
      if (!failure || attempt >= strategy.settings().max_attempts) throw;
      auto delay = strategy.on_failure(attempt, *failure);
      if (!delay) throw;
      spent += strategy.cost_of(*failure);
      strategy.sleep(*delay);
    }
  }
}

}  // namespace shared::aws
