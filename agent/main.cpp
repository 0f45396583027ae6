// agent: runs chat turns against the model, persists them, publishes deltas to the hub.
#include <cstdio>

#include "agent_config.h"
#include "agent_service.h"
#include "shared/logging.h"
#include "shared/metrics.h"
#include "shared/shutdown.h"

int main(int argc, char** argv) {
  shared::ShutdownSignal signals;
  agent::AgentConfig config;
  try {
    config = agent::read_agent_config(shared::ConfigSource::from_process(argc, argv));
  } catch (const shared::ConfigError& e) {
    std::fprintf(stderr, "agent: configuration error: %s\n", e.what());
    return 2;
  }
  shared::log::init(config.log, "agent");
  shared::MetricsRegistry metrics;
  std::unique_ptr<agent::AgentService> service;
  try {
    service = std::make_unique<agent::AgentService>(config, metrics);
    service->bind();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "agent: %s\n", e.what());
    return 1;
  }
  signals.on_shutdown([&] { service->begin_stop(); });
  const bool drained = service->serve();
  shared::log::info("stopped", {{"drained", drained}});
  if (!drained) shared::abandon_in_flight_work_and_exit(0);  // threads still use the service
  return 0;
}
