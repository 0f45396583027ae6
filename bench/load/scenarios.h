// The measurements sse_load can run; each prints one JSON object on stdout.
//   deliver       N subscribers over T topics; optional publishing at a rate (or as fast as
//                 possible) with slow consumers: idle capacity, broadcast, chat, throughput,
//                 slow-consumer scenarios
//   storm         everyone drops and reconnects at once with Last-Event-ID; time to catch up
//   request-path  closed-loop GETs over keep-alive connections (GET /api/sessions)
//   token-latency chat turns through the agent against the fake Bedrock; how long each streamed
//                 token takes from the fake to a hub subscriber
#pragma once

#include <nlohmann/json.hpp>

#include "load_options.h"

namespace bench {

nlohmann::json run_deliver(const LoadOptions& options);
nlohmann::json run_storm(const LoadOptions& options);
nlohmann::json run_request_path(const LoadOptions& options);
nlohmann::json run_token_latency(const LoadOptions& options);

}  // namespace bench
