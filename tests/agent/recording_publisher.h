// An UpdatePublisher for tests that keeps every update it is given, in order.
#pragma once

#include <mutex>
#include <vector>

#include "publish/update_publisher.h"

namespace agent::testing {

class RecordingPublisher : public publish::UpdatePublisher {
 public:
  void publish(const std::string& topic, const nlohmann::json& data) override {
    std::lock_guard lock(mutex_);
    updates_.push_back({{"topic", topic}, {"data", data}});
  }
  std::string check_ready() override { return ""; }
  std::vector<nlohmann::json> updates() {
    std::lock_guard lock(mutex_);
    return updates_;
  }
  std::vector<nlohmann::json> data_of_type(const std::string& type) {
    std::vector<nlohmann::json> out;
    for (const auto& u : updates())
      if (u["data"]["type"] == type) out.push_back(u["data"]);
    return out;
  }

 private:
  std::mutex mutex_;
  std::vector<nlohmann::json> updates_;
};

}  // namespace agent::testing
