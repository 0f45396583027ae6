#include "agent_service.h"

#include <thread>

#include "model/provider_factory.h"
#include "shared/logging.h"
#include "store/store_factory.h"
#include "tools/current_time_tool.h"

namespace agent {
namespace {

// HTTP's own drain is the last step of the stop (after the turns): give it the same time as
// the publish backlog, which drains beside it, so that the whole stop stays in its budget.
shared::http::ServerConfig last_step_drain(shared::http::ServerConfig server,
                                           std::chrono::milliseconds drain) {
  server.drain_timeout = drain;
  return server;
}

// Every tool named in AGENT_TOOLS_REQUIRE_APPROVAL exists: a misspelt name would silently let
// that tool run unasked.
void check_approval_names(const engine::ApprovalPolicy& policy, const tools::ToolRegistry& tools) {
  for (const auto& name : policy.tools) {
    if (tools.has(name)) continue;
    std::string known;
    for (const auto& n : tools.names()) known += (known.empty() ? "" : ", ") + n;
    throw shared::ConfigError("AGENT_TOOLS_REQUIRE_APPROVAL",
                              "no tool is named " + name + " (tools: " + known + ")");
  }
}

}  // namespace

AgentService::AgentService(const AgentConfig& config, shared::MetricsRegistry& metrics)
    : stop_budget_(config.server.drain_timeout),
      last_step_(config.hub.drain_timeout),
      metrics_(metrics),
      tools_(config.tools),
      http_("agent", last_step_drain(config.server, config.hub.drain_timeout), metrics) {
  store_ = store::make_session_store(config, metrics, client_);
  model_ = model::make_model_provider(config);
  tools_.add(std::make_shared<tools::CurrentTimeTool>());
  check_approval_names(config.turns.approvals, tools_);
  publisher_ = std::make_unique<publish::HubPublisher>(config.hub, metrics);
  engine_ = std::make_unique<engine::TurnEngine>(config.turns, *store_, *model_, tools_,
                                                 *publisher_, metrics);
  api_ = std::make_unique<api::SessionsApi>(config.api, *store_, *engine_);
  api_->install(http_.routes());
  http_.add_readiness_check("store", [this] { return store_->check_ready(); });
  http_.add_readiness_check("hub", [this] { return publisher_->check_ready(); });
  http_.add_readiness_check("turns", [this] {
    return engine_->accepting() ? std::string()
                                : std::string("shutting down: new turns are refused");
  });
  try {
    engine_->recover_abandoned_turns(true);
  } catch (const std::exception& e) {
    shared::log::error("cannot recover abandoned turns now; the periodic sweep retries",
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
  std::lock_guard lock(stop_mutex_);
  if (stop_requested_) return;
  stop_requested_ = true;
  stop_started_ = std::chrono::steady_clock::now();
  stop_wake_.notify_all();
}

StopOutcome AgentService::serve() {
  StopOutcome outcome;
  std::thread listener([this, &outcome] {
    outcome.http_drained = http_.serve();
    begin_stop();  // when the server ends on its own, the rest stops too
  });
  std::chrono::steady_clock::time_point budget_end;
  {
    std::unique_lock lock(stop_mutex_);
    stop_wake_.wait(lock, [this] { return stop_requested_; });
    budget_end = stop_started_ + stop_budget_;
  }
  // HTTP keeps serving while turns finish: cancel and approvals still reach them. The turns get
  // the budget but the last step's share.
  outcome.turns_stopped = engine_->shutdown(budget_end - last_step_);
  http_.stop();
  publisher_->stop(budget_end);
  listener.join();
  return outcome;
}

}  // namespace agent
