#include "agent_service.h"

#include "model/provider_factory.h"
#include "shared/logging.h"
#include "store/store_factory.h"
#include "tools/current_time_tool.h"

namespace agent {

AgentService::AgentService(const AgentConfig& config, shared::MetricsRegistry& metrics)
    : metrics_(metrics), tools_(config.tools), http_("agent", config.server, metrics) {
  store_ = store::make_session_store(config, metrics, client_);
  model_ = model::make_model_provider(config);
  tools_.add(std::make_shared<tools::CurrentTimeTool>());
  publisher_ = std::make_unique<publish::HubPublisher>(config.hub, metrics);
  engine_ = std::make_unique<engine::TurnEngine>(config.turns, *store_, *model_, tools_,
                                                 *publisher_, metrics);
  api_ = std::make_unique<api::SessionsApi>(config.api, *store_, *engine_);
  api_->install(http_.routes());
  http_.add_readiness_check("store", [this] { return store_->check_ready(); });
  http_.add_readiness_check("hub", [this] { return publisher_->check_ready(); });
  try {
    engine_->recover_abandoned_turns();
  } catch (const std::exception& e) {
    shared::log::error("cannot recover abandoned turns now; they will be marked when next used",
                       {{"error", e.what()}});
  }
  shared::log::info("agent ready", {{"store", config.store},
                                    {"model", model_->name()},
                                    {"hub", config.hub.url},
                                    {"instance", config.turns.instance_id}});
}

AgentService::~AgentService() {
  if (engine_) engine_->shutdown();
  if (publisher_) publisher_->stop();
}

void AgentService::begin_stop() {
  engine_->begin_shutdown();
  http_.stop();
}

bool AgentService::serve() {
  const bool drained = http_.serve();
  engine_->shutdown();
  publisher_->stop();
  return drained;
}

}  // namespace agent
