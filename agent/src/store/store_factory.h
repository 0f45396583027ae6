// Builds the session store named by AGENT_STORE, wrapped so that its latency is measured.
#pragma once

#include <memory>

#include "agent_config.h"
#include "shared/http_client.h"
#include "shared/metrics.h"
#include "store/session_store.h"

namespace agent::store {

// Throws StoreError (or std::runtime_error) with a one-line reason.
std::unique_ptr<SessionStore> make_session_store(const AgentConfig& config,
                                                 shared::MetricsRegistry& metrics,
                                                 shared::http::HttpClient& http);

}  // namespace agent::store
