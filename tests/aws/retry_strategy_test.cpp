// The SDK standard retry mode with an injected sleeper and random source: no real sleeping.
#include "shared/aws/retry_strategy.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <vector>

#include "shared/aws/clock_skew.h"

using namespace shared::aws;
using std::chrono::milliseconds;

namespace {

struct Recorder {
  std::vector<milliseconds> sleeps;
  RetryStrategy make(RetrySettings s = {}, double r = 1.0) {
    return RetryStrategy(
        s, [this](milliseconds d) { sleeps.push_back(d); }, [r] { return r; });
  }
};

AttemptFailure throttled() { return {"ThrottlingException", 400, false, false}; }

}  // namespace

TEST(RetryStrategy, BackoffIsFullJitterExponentialCappedAt20Seconds) {
  Recorder rec;
  RetrySettings s;
  s.max_attempts = 10;
  RetryStrategy half = rec.make(s, 0.5);
  EXPECT_EQ(half.backoff(1), milliseconds(500));
  EXPECT_EQ(half.backoff(2), milliseconds(1000));
  EXPECT_EQ(half.backoff(3), milliseconds(2000));
  RetryStrategy top = rec.make(s, 0.999999);
  EXPECT_EQ(top.backoff(6), milliseconds(19'999));  // 32 s capped at 20 s
  EXPECT_EQ(top.backoff(20), milliseconds(19'999));
  RetryStrategy zero = rec.make(s, 0.0);
  EXPECT_EQ(zero.backoff(4), milliseconds(0));
}

TEST(RetryStrategy, RetryableErrorsAndStatuses) {
  EXPECT_TRUE(is_retryable({"ThrottlingException", 400, false, false}));
  EXPECT_TRUE(is_retryable({"ProvisionedThroughputExceededException", 400, false, false}));
  EXPECT_TRUE(is_retryable({"", 503, false, false}));
  EXPECT_TRUE(is_retryable({"", 500, false, false}));
  EXPECT_TRUE(is_retryable({"", 0, true, false}));
  EXPECT_TRUE(is_retryable({"", 0, false, true}));
  EXPECT_FALSE(is_retryable({"ValidationException", 400, false, false}));
  EXPECT_FALSE(is_retryable({"ConditionalCheckFailedException", 400, false, false}));
  EXPECT_FALSE(is_retryable({"AccessDeniedException", 403, false, false}));
}

TEST(RetryStrategy, GivesUpAfterMaxAttemptsAndSleepsBetween) {
  Recorder rec;
  RetryStrategy strategy = rec.make({}, 0.5);
  int calls = 0;
  EXPECT_THROW(run_with_retries<int>(
                   strategy,
                   [&](int) -> int {
                     ++calls;
                     throw std::runtime_error("throttled");
                   },
                   [] { return std::optional<AttemptFailure>(throttled()); }),
               std::runtime_error);
  EXPECT_EQ(calls, 3);
  ASSERT_EQ(rec.sleeps.size(), 2u);
  EXPECT_EQ(rec.sleeps[0], milliseconds(500));
  EXPECT_EQ(rec.sleeps[1], milliseconds(1000));
}

TEST(RetryStrategy, NonRetryableErrorIsThrownAtOnce) {
  Recorder rec;
  RetryStrategy strategy = rec.make();
  int calls = 0;
  EXPECT_THROW(run_with_retries<int>(
                   strategy,
                   [&](int) -> int {
                     ++calls;
                     throw std::runtime_error("bad");
                   },
                   [] {
                     return std::optional<AttemptFailure>(
                         AttemptFailure{"ValidationException", 400, false, false});
                   }),
               std::runtime_error);
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(rec.sleeps.empty());
}

TEST(RetryStrategy, SuccessAfterRetryRefundsItsCost) {
  Recorder rec;
  RetryStrategy strategy = rec.make();
  int calls = 0;
  int v = run_with_retries<int>(
      strategy,
      [&](int attempt) -> int {
        ++calls;
        if (attempt < 2) throw std::runtime_error("throttled");
        return 42;
      },
      [] { return std::optional<AttemptFailure>(throttled()); });
  EXPECT_EQ(v, 42);
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(strategy.quota_available(), 500);
}

TEST(RetryStrategy, EmptyQuotaStopsRetries) {
  Recorder rec;
  RetrySettings s;
  s.quota_capacity = 12;
  RetryStrategy strategy = rec.make(s);
  EXPECT_TRUE(strategy.on_failure(1, throttled()).has_value());   // 12 -> 7
  EXPECT_TRUE(strategy.on_failure(1, throttled()).has_value());   // 7 -> 2
  EXPECT_FALSE(strategy.on_failure(1, throttled()).has_value());  // 2 < 5
  EXPECT_EQ(strategy.quota_available(), 2);
  EXPECT_FALSE(strategy.on_failure(1, {"", 0, false, true}).has_value());  // a timeout costs 10
  strategy.on_success(0);
  EXPECT_EQ(strategy.quota_available(), 3);
}

TEST(RetryStrategy, TimeoutsCostTen) {
  Recorder rec;
  RetryStrategy strategy = rec.make();
  ASSERT_TRUE(strategy.on_failure(1, {"", 0, true, true}).has_value());
  EXPECT_EQ(strategy.quota_available(), 490);
  ASSERT_TRUE(strategy.on_failure(1, {"", 503, false, false}).has_value());
  EXPECT_EQ(strategy.quota_available(), 485);
}

TEST(RetryOnClockSkew, ASkewErrorWhoseDateIsFarOffMovesTheSigningClockOnce) {
  const auto local =
      std::chrono::system_clock::from_time_t(1'700'000'000);  // Tue, 14 Nov 2023 22:13:20 GMT
  ClockSkew clock([&] { return local; });
  EXPECT_EQ(clock.now(), local);
  // Not a skew error, or a Date within 4 minutes: nothing to correct.
  EXPECT_FALSE(clock.correct("ThrottlingException", "Tue, 14 Nov 2023 23:13:20 GMT"));
  EXPECT_FALSE(clock.correct("InvalidSignatureException", "Tue, 14 Nov 2023 22:16:20 GMT"));
  EXPECT_FALSE(clock.correct("InvalidSignatureException", "not a date"));
  // An hour ahead.
  EXPECT_TRUE(clock.correct("RequestTimeTooSkewed", "Tue, 14 Nov 2023 23:13:20 GMT"));
  EXPECT_EQ(clock.offset(), std::chrono::hours(1));
  EXPECT_EQ(clock.now(), local + std::chrono::hours(1));
  // The same answer again finds the clock right: no second retry.
  EXPECT_FALSE(clock.correct("RequestTimeTooSkewed", "Tue, 14 Nov 2023 23:13:20 GMT"));
  // Behind works too.
  EXPECT_TRUE(clock.correct("SignatureDoesNotMatch", "Tue, 14 Nov 2023 21:13:20 GMT"));
  EXPECT_EQ(clock.offset(), -std::chrono::hours(1));
}

TEST(RetryOnClockSkew, OnlyACorrectedSkewIsRetryable) {
  for (const char* code : {"RequestTimeTooSkewed", "RequestExpired", "RequestInTheFuture",
                           "InvalidSignatureException", "SignatureDoesNotMatch", "AuthFailure"})
    EXPECT_TRUE(is_clock_skew_error(code)) << code;
  AttemptFailure f{"InvalidSignatureException", 403, false, false};
  EXPECT_FALSE(is_retryable(f));
  f.clock_skew_corrected = true;
  EXPECT_TRUE(is_retryable(f));
}

TEST(RetryOnClockSkew, ParsesHttpDates) {
  EXPECT_EQ(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            std::chrono::system_clock::from_time_t(784111777));
  EXPECT_FALSE(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"));
  EXPECT_FALSE(parse_http_date(""));
}
