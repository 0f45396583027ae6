#include "store/store_factory.h"

#include "store/sqlite_session_store.h"
#include "store/timed_session_store.h"

namespace agent::store {

std::unique_ptr<SessionStore> make_session_store(const AgentConfig& config, shared::MetricsRegistry& metrics,
                                                 shared::http::HttpClient&) {
  std::unique_ptr<SessionStore> inner;
  if (config.store == "sqlite") {
    inner = std::make_unique<SqliteSessionStore>(config.sqlite);
  } else {
    throw std::runtime_error("AGENT_STORE: 'dynamodb' is not available in this build yet");
  }
  return std::make_unique<TimedSessionStore>(std::move(inner), metrics);
}

}  // namespace agent::store
