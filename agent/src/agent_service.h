// The agent assembled: store, model, tools, publisher, turn engine and the HTTP API on one
// HttpService, built from the typed config. main() creates one, serves, and stops it in order:
// refuse new turns and stop accepting requests, let running turns finish or mark them
// interrupted, then drain the publish backlog.
#pragma once

#include <memory>

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

class AgentService {
 public:
  // Throws std::exception with a one-line reason when a part cannot be built.
  AgentService(const AgentConfig& config, shared::MetricsRegistry& metrics);
  ~AgentService();

  int bind() { return http_.bind(); }
  // Serves until begin_stop(); then finishes the shutdown. True when everything drained.
  bool serve();
  // Safe from the signal thread.
  void begin_stop();

 private:
  shared::MetricsRegistry& metrics_;
  shared::http::HttpClient client_;
  std::unique_ptr<store::SessionStore> store_;
  std::unique_ptr<model::ModelProvider> model_;
  tools::ToolRegistry tools_;
  std::unique_ptr<publish::HubPublisher> publisher_;
  std::unique_ptr<engine::TurnEngine> engine_;
  std::unique_ptr<api::SessionsApi> api_;
  shared::http::HttpService http_;
};

}  // namespace agent
