// The agent assembled: store, model, tools, publisher, turn engine and the HTTP API on one
// HttpService, built from the typed config. main() creates one, serves, and stops it in order,
// all within AGENT_DRAIN_TIMEOUT (below ECS's 30 s stop timeout): refuse new turns (and report
// not ready) while still serving requests, so that cancels, approvals and reads work during
// AGENT_SHUTDOWN_GRACE; then mark the turns still running interrupted; then stop HTTP and drain
// the publish backlog, both for AGENT_PUBLISH_DRAIN_TIMEOUT at most.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>

#include "agent_config.h"
#include "api/sessions_api.h"
#include "engine/turn_engine.h"
#include "model/model_provider.h"
#include "publish/hub_publisher.h"
#include "shared/http_client.h"
#include "shared/http_server.h"
#include "shared/metrics.h"
#include "store/session_store.h"
#include "tools/tool_registry.h"

namespace agent {

struct StopOutcome {
  bool http_drained = true;   // every request in flight finished
  bool turns_stopped = true;  // every turn ended and was persisted; false: exit without waiting
};

class AgentService {
 public:
  // Throws std::exception with a one-line reason when a part cannot be built.
  AgentService(const AgentConfig& config, shared::MetricsRegistry& metrics);
  ~AgentService();

  int bind() { return http_.bind(); }
  // Serves until begin_stop(); then runs the stop sequence.
  StopOutcome serve();
  // Safe from the signal thread.
  void begin_stop();

 private:
  std::chrono::milliseconds stop_budget_;  // AGENT_DRAIN_TIMEOUT: the whole stop
  std::chrono::milliseconds last_step_;    // AGENT_PUBLISH_DRAIN_TIMEOUT: HTTP and backlog drain
  shared::MetricsRegistry& metrics_;
  shared::http::HttpClient client_;
  std::unique_ptr<store::SessionStore> store_;
  std::unique_ptr<model::ModelProvider> model_;
  tools::ToolRegistry tools_;
  std::unique_ptr<publish::HubPublisher> publisher_;
  std::unique_ptr<engine::TurnEngine> engine_;
  std::unique_ptr<api::SessionsApi> api_;
  shared::http::HttpService http_;
  std::mutex stop_mutex_;
  std::condition_variable stop_wake_;
  bool stop_requested_ = false;
  std::chrono::steady_clock::time_point stop_started_{};
};

}  // namespace agent
