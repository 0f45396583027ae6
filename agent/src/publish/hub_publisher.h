// A Mercure publisher: updates are queued in a bounded backlog and POSTed in order by one
// background thread (form fields topic, data, private=on) with a publisher JWT. When the hub is
// down or answers 5xx/429 the same update is retried with capped exponential backoff, so updates
// are not lost while the hub restarts; when the backlog is full the oldest update is dropped
// (counted), because a live view that skips ahead beats an agent that runs out of memory. An
// update the hub refuses for good (a 4xx other than 408/429) is dropped too, counted apart.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

#include "publish/update_publisher.h"
#include "shared/http_client.h"
#include "shared/jwt.h"
#include "shared/metrics.h"

namespace agent::publish {

struct HubSettings {
  std::string url = "http://127.0.0.1:3701/.well-known/mercure";  // AGENT_HUB_URL
  shared::jwt::Key key;                            // MERCURE_PUBLISHER_JWT_KEY (+ _ALG)
  std::size_t backlog = 10'000;                    // AGENT_PUBLISH_BACKLOG: queued updates at most
  std::chrono::milliseconds timeout{5'000};        // AGENT_PUBLISH_TIMEOUT: one POST
  std::chrono::milliseconds max_backoff{5'000};    // AGENT_PUBLISH_MAX_BACKOFF: between retries
  std::chrono::milliseconds drain_timeout{5'000};  // AGENT_PUBLISH_DRAIN_TIMEOUT: at stop
};

class HubPublisher : public UpdatePublisher {
 public:
  HubPublisher(HubSettings settings, shared::MetricsRegistry& metrics);
  ~HubPublisher() override;
  HubPublisher(const HubPublisher&) = delete;
  HubPublisher& operator=(const HubPublisher&) = delete;

  void publish(const std::string& topic, const nlohmann::json& data) override;
  std::string check_ready() override;
  // Sends what is queued for at most the drain timeout (and not past `until`), then stops the
  // thread. Idempotent.
  void stop(
      std::chrono::steady_clock::time_point until = std::chrono::steady_clock::time_point::max());
  std::size_t backlog_size();

 private:
  struct Update {
    std::uint64_t number;  // order of arrival, to recognise the front after a drop
    std::string topic;
    std::string data;
  };
  void run();
  // True when delivered or undeliverable (dropped); false to retry.
  bool send(const Update& update);
  std::string bearer_token();
  void count_drop(const char* reason);

  HubSettings settings_;
  shared::MetricsRegistry& metrics_;
  shared::http::HttpClient client_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Update> queue_;
  std::uint64_t next_number_ = 0;
  bool stopping_ = false;
  std::chrono::steady_clock::time_point drain_deadline_{};
  std::string token_;
  std::chrono::steady_clock::time_point token_made_{};
  std::thread worker_;
};

}  // namespace agent::publish
