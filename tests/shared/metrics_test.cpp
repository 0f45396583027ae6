#include "shared/metrics.h"

#include <gtest/gtest.h>

#include <thread>

namespace {

TEST(Metrics, CounterRendersHelpTypeAndLabels) {
  shared::MetricsRegistry r;
  r.counter("turns_total", "Turns run", {{"status", "done"}}).inc();
  r.counter("turns_total", "Turns run", {{"status", "done"}}).inc(2);
  r.counter("turns_total", "Turns run", {{"status", "error"}}).inc();
  EXPECT_EQ(r.render(),
            "# HELP turns_total Turns run\n"
            "# TYPE turns_total counter\n"
            "turns_total{status=\"done\"} 3\n"
            "turns_total{status=\"error\"} 1\n");
}

TEST(Metrics, GaugeGoesUpAndDown) {
  shared::MetricsRegistry r;
  auto& g = r.gauge("connections", "Open connections");
  g.inc();
  g.inc();
  g.dec();
  g.set(g.value() + 0.5);
  EXPECT_EQ(r.render(),
            "# HELP connections Open connections\n# TYPE connections gauge\nconnections 1.5\n");
}

TEST(Metrics, HistogramBucketsAreCumulativeWithInfSumAndCount) {
  shared::MetricsRegistry r;
  auto& h = r.histogram("latency_seconds", "Latency", {0.1, 0.5, 1}, {{"route", "a"}});
  h.observe(0.05);
  h.observe(0.1);  // on the bound: counts in le="0.1"
  h.observe(0.7);
  h.observe(3);
  EXPECT_EQ(r.render(),
            "# HELP latency_seconds Latency\n"
            "# TYPE latency_seconds histogram\n"
            "latency_seconds_bucket{route=\"a\",le=\"0.1\"} 2\n"
            "latency_seconds_bucket{route=\"a\",le=\"0.5\"} 2\n"
            "latency_seconds_bucket{route=\"a\",le=\"1\"} 3\n"
            "latency_seconds_bucket{route=\"a\",le=\"+Inf\"} 4\n"
            "latency_seconds_sum{route=\"a\"} 3.85\n"
            "latency_seconds_count{route=\"a\"} 4\n");
}

TEST(Metrics, LabelValuesAreEscaped) {
  shared::MetricsRegistry r;
  r.counter("x_total", "help with \\ backslash\nand newline", {{"path", "a\"b\\c\nd"}}).inc();
  EXPECT_EQ(r.render(),
            "# HELP x_total help with \\\\ backslash\\nand newline\n"
            "# TYPE x_total counter\n"
            "x_total{path=\"a\\\"b\\\\c\\nd\"} 1\n");
}

TEST(Metrics, NameReusedWithAnotherTypeIsRefused) {
  shared::MetricsRegistry r;
  r.counter("thing", "a");
  EXPECT_THROW(r.gauge("thing", "a"), std::invalid_argument);
  EXPECT_THROW(r.counter("bad-name", "a"), std::invalid_argument);
  EXPECT_THROW(r.counter("ok_total", "a").inc(-1), std::invalid_argument);
  EXPECT_THROW(r.histogram("h", "a", {1, 1}), std::invalid_argument);
}

TEST(Metrics, MetricNamesFollowThePrometheusRules) {
  shared::MetricsRegistry r;
  EXPECT_NO_THROW(r.counter("http_requests_total", "a"));
  EXPECT_NO_THROW(r.gauge("job:queue_depth:max", "a"));  // colons: recording-rule style
  EXPECT_NO_THROW(r.gauge("_private2", "a"));
  for (const char* bad : {"", "2xx_total", "has space", "dash-ed", "dot.ted", "ünïcode"})
    EXPECT_THROW(r.counter(bad, "a"), std::invalid_argument) << bad;
}

TEST(Metrics, LabelNamesFollowThePrometheusRules) {
  shared::MetricsRegistry r;
  EXPECT_NO_THROW(r.counter("a_total", "a", {{"status_code", "200"}, {"_x9", "y"}}));
  for (const char* bad : {"", "9lives", "has-dash", "has space", "job:name", "__reserved"})
    EXPECT_THROW(r.counter("b_total", "b", {{bad, "v"}}), std::invalid_argument) << bad;
  // A histogram's bucket series already carry le.
  EXPECT_THROW(r.histogram("c_seconds", "c", {1}, {{"le", "1"}}), std::invalid_argument);
  EXPECT_NO_THROW(r.counter("d_total", "d", {{"le", "1"}}));
  // A refused series is not rendered.
  EXPECT_EQ(r.render().find("__reserved"), std::string::npos);
  EXPECT_EQ(r.render().find("9lives"), std::string::npos);
}

TEST(Metrics, ConcurrentIncrementsAreNotLost) {
  shared::MetricsRegistry r;
  auto& c = r.counter("hits_total", "hits");
  auto& h = r.histogram("h_seconds", "h", {1});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) {
        c.inc();
        h.observe(0.5);
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(c.value(), 40000);
  EXPECT_EQ(h.count(), 40000u);
  EXPECT_EQ(h.sum(), 20000);
}

}  // namespace
