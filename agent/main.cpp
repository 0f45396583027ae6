// agent: runs chat turns against the model, persists them, publishes deltas to the hub.
#include <cstdio>
#include <cstdlib>

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
  } catch (const shared::ConfigError& e) {
    std::fprintf(stderr, "agent: configuration error: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "agent: %s\n", e.what());
    return 1;
  }
  signals.on_shutdown([&] { service->begin_stop(); });
  const auto outcome = service->serve();
  shared::log::info("stopped",
                    {{"drained", outcome.http_drained}, {"turns_stopped", outcome.turns_stopped}});
  if (!outcome.turns_stopped) {
    // Turns still on worker threads cannot be waited for within the stop budget, and the parts
    // they use cannot be torn down under them: leave now. Their locks' leases run out and
    // another instance marks them interrupted.
    shared::abandon_in_flight_work_and_exit(1);
  }
  // Requests still in flight when the drain time ran out use the service from their threads.
  if (!outcome.http_drained) shared::abandon_in_flight_work_and_exit(0);
  return 0;
}
