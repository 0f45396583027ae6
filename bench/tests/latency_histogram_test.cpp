#include "latency_histogram.h"

#include <gtest/gtest.h>

namespace bench {

TEST(LatencyHistogram, PercentilesOfUniformValuesAreWithinOnePercent) {
  LatencyHistogram histogram;
  for (int v = 1; v <= 100000; ++v) histogram.record(v);
  EXPECT_EQ(histogram.count(), 100000u);
  EXPECT_NEAR(static_cast<double>(histogram.percentile(0.5)), 50000.0, 500.0);
  EXPECT_NEAR(static_cast<double>(histogram.percentile(0.99)), 99000.0, 990.0);
  EXPECT_EQ(histogram.max(), 100000);
  EXPECT_EQ(histogram.min(), 1);
}

TEST(LatencyHistogram, SmallValuesAreExact) {
  LatencyHistogram histogram;
  for (int v : {3, 3, 7, 100}) histogram.record(v);
  EXPECT_EQ(histogram.percentile(0.5), 3);
  EXPECT_EQ(histogram.percentile(0.75), 7);
  EXPECT_EQ(histogram.percentile(1.0), 100);
}

TEST(LatencyHistogram, SerializedFormMergesLikeTheOriginal) {
  LatencyHistogram a;
  LatencyHistogram b;
  for (int v = 0; v < 1000; ++v) a.record(v * 10);
  for (int v = 0; v < 1000; ++v) b.record(v * 1000);
  const auto parsed = LatencyHistogram::parse(b.serialize());
  ASSERT_TRUE(parsed.has_value());
  LatencyHistogram merged = a;
  merged.merge(*parsed);
  LatencyHistogram direct = a;
  direct.merge(b);
  EXPECT_EQ(merged.count(), 2000u);
  EXPECT_EQ(merged.percentile(0.9), direct.percentile(0.9));
  EXPECT_EQ(merged.max(), 999000);
}

TEST(LatencyHistogram, GarbageDoesNotParse) {
  EXPECT_FALSE(LatencyHistogram::parse("").has_value());
  EXPECT_FALSE(LatencyHistogram::parse("1:2;x;3;4").has_value());
  EXPECT_FALSE(LatencyHistogram::parse("999999999:1;0;0;0").has_value());
  EXPECT_FALSE(LatencyHistogram::parse("5:-1;0;0;0").has_value());
}

}  // namespace bench
