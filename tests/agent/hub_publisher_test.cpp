// The Mercure publisher against a fake hub on a real socket: what it sends, how it retries, and
// how its backlog is bounded.
#include "publish/hub_publisher.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <mutex>
#include <thread>

#include "store_under_test.h"

namespace agent::publish {
namespace {

constexpr const char* kSecret = "publisher-test-secret-0123456789";

// A hub that answers `failure_status` (503 unless told) to the first `failures` publishes,
// then 200.
class FakeHub {
 public:
  explicit FakeHub(int failures, int failure_status = 503)
      : failures_(failures), failure_status_(failure_status) {
    server_.Post("/.well-known/mercure",
                 [this](const httplib::Request& req, httplib::Response& res) {
                   std::lock_guard lock(mutex_);
                   if (failures_ > 0) {
                     --failures_;
                     res.status = failure_status_;
                     return;
                   }
                   received_.push_back({{"topic", req.get_param_value("topic")},
                                        {"data", req.get_param_value("data")},
                                        {"private", req.get_param_value("private")},
                                        {"authorization", req.get_header_value("Authorization")},
                                        {"content_type", req.get_header_value("Content-Type")}});
                   res.set_content("urn:uuid:" + std::to_string(received_.size()), "text/plain");
                 });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~FakeHub() {
    server_.stop();
    thread_.join();
  }
  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(port_) + "/.well-known/mercure";
  }
  std::vector<nlohmann::json> received() {
    std::lock_guard lock(mutex_);
    return received_;
  }
  bool wait_for(std::size_t count) {
    for (int i = 0; i < 500; ++i) {
      if (received().size() >= count) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mutex_;
  int failures_;
  int failure_status_;
  std::vector<nlohmann::json> received_;
};

HubSettings settings_for(const std::string& url) {
  HubSettings s;
  s.url = url;
  s.key = {shared::jwt::Algorithm::kHS256, kSecret, ""};
  s.max_backoff = std::chrono::milliseconds(100);
  s.drain_timeout = std::chrono::milliseconds(500);
  return s;
}

TEST(HubPublisher, PostsPrivateFormUpdatesInOrderWithAPublisherJwt) {
  FakeHub hub(0);
  shared::MetricsRegistry metrics;
  HubPublisher publisher(settings_for(hub.url()), metrics);
  for (int i = 1; i <= 3; ++i)
    publisher.publish("/users/u/sessions/s",
                      {{"type", "text.delta"}, {"seq", i}, {"text", "a&b=c"}});
  ASSERT_TRUE(hub.wait_for(3));
  const auto received = hub.received();
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(received[i]["topic"], "/users/u/sessions/s");
    EXPECT_EQ(received[i]["private"], "on");
    EXPECT_EQ(received[i]["content_type"], "application/x-www-form-urlencoded");
    const auto data = nlohmann::json::parse(received[i]["data"].get<std::string>());
    EXPECT_EQ(data["seq"], i + 1);
    EXPECT_EQ(data["text"], "a&b=c");
  }
  const std::string auth = received[0]["authorization"];
  ASSERT_EQ(auth.rfind("Bearer ", 0), 0u);
  const auto claims =
      shared::jwt::verify(auth.substr(7), {{shared::jwt::Algorithm::kHS256, kSecret, ""}});
  EXPECT_EQ(claims["mercure"]["publish"], nlohmann::json::array({"*"}));
  EXPECT_TRUE(claims.contains("exp"));
}

TEST(HubPublisher, RetriesWhileTheHubFailsAndLosesNothing) {
  FakeHub hub(3);
  shared::MetricsRegistry metrics;
  HubPublisher publisher(settings_for(hub.url()), metrics);
  publisher.publish("/t", {{"seq", 1}});
  publisher.publish("/t", {{"seq", 2}});
  ASSERT_TRUE(hub.wait_for(2));
  const auto received = hub.received();
  EXPECT_EQ(nlohmann::json::parse(received[0]["data"].get<std::string>())["seq"], 1);
  EXPECT_EQ(nlohmann::json::parse(received[1]["data"].get<std::string>())["seq"], 2);
  EXPECT_GE(metrics.counter("agent_publish_failures_total", "").value(), 3);
}

TEST(HubPublisher, TheBacklogIsBoundedAndDropsTheOldest) {
  auto settings = settings_for("http://127.0.0.1:" + std::to_string(testing::free_port()) +
                               "/.well-known/mercure");
  settings.backlog = 2;
  settings.drain_timeout = std::chrono::milliseconds(0);
  shared::MetricsRegistry metrics;
  HubPublisher publisher(settings, metrics);
  for (int i = 0; i < 5; ++i) publisher.publish("/t", {{"seq", i}});
  EXPECT_LE(publisher.backlog_size(), 2u);
  EXPECT_GE(
      metrics.counter("agent_publish_dropped_total", "", {{"reason", "backlog_full"}}).value(), 3);
  EXPECT_EQ(metrics.counter("agent_publish_dropped_total", "", {{"reason", "rejected"}}).value(),
            0);
  const auto started = std::chrono::steady_clock::now();
  publisher.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(3));
}

TEST(HubPublisher, AnUpdateTheHubRefusesIsDroppedAndCountedApartFromBacklogDrops) {
  FakeHub hub(1, 400);
  shared::MetricsRegistry metrics;
  HubPublisher publisher(settings_for(hub.url()), metrics);
  publisher.publish("/t", {{"seq", 1}});  // refused for good: not retried
  publisher.publish("/t", {{"seq", 2}});
  ASSERT_TRUE(hub.wait_for(1));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const auto received = hub.received();
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(nlohmann::json::parse(received[0]["data"].get<std::string>())["seq"], 2);
  EXPECT_EQ(metrics.counter("agent_publish_dropped_total", "", {{"reason", "rejected"}}).value(),
            1);
  EXPECT_EQ(
      metrics.counter("agent_publish_dropped_total", "", {{"reason", "backlog_full"}}).value(), 0);
  EXPECT_EQ(metrics.counter("agent_publish_total", "").value(), 1);
  const auto text = metrics.render();
  EXPECT_NE(text.find("agent_publish_dropped_total{reason=\"rejected\"} 1"), std::string::npos);
  EXPECT_NE(text.find("agent_publish_dropped_total{reason=\"backlog_full\"} 0"), std::string::npos);
}

TEST(HubPublisher, StopDrainsNoLaterThanTheDeadlineItIsGiven) {
  auto settings = settings_for("http://127.0.0.1:" + std::to_string(testing::free_port()) +
                               "/.well-known/mercure");
  settings.drain_timeout = std::chrono::seconds(5);
  shared::MetricsRegistry metrics;
  HubPublisher publisher(settings, metrics);
  publisher.publish("/t", {{"seq", 1}});  // undeliverable: nothing listens
  const auto started = std::chrono::steady_clock::now();
  publisher.stop(started + std::chrono::milliseconds(200));
  const auto took = std::chrono::steady_clock::now() - started;
  EXPECT_LT(took, std::chrono::milliseconds(1500));
}

}  // namespace
}  // namespace agent::publish
