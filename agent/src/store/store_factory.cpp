#include "store/store_factory.h"

#include "shared/aws/credentials.h"
#include "store/dynamodb_session_store.h"
#include "store/sqlite_session_store.h"
#include "store/timed_session_store.h"

namespace agent::store {

std::unique_ptr<SessionStore> make_session_store(const AgentConfig& config,
                                                 shared::MetricsRegistry& metrics,
                                                 shared::http::HttpClient& http) {
  std::unique_ptr<SessionStore> inner;
  if (config.store == "sqlite") {
    inner = std::make_unique<SqliteSessionStore>(config.sqlite);
  } else {
    auto credentials = shared::aws::make_default_credentials_chain(config.aws, http);
    auto client = std::make_shared<shared::aws::AwsJsonClient>(config.aws, "dynamodb", "dynamodb",
                                                               "1.0", std::move(credentials), http);
    DynamoSettingsForStore settings;
    settings.table = config.dynamodb.table;
    settings.create_table = config.dynamodb.create_table;
    settings.ttl = config.dynamodb.ttl;
    inner = std::make_unique<DynamoSessionStore>(settings, std::move(client));
  }
  return std::make_unique<TimedSessionStore>(std::move(inner), metrics);
}

}  // namespace agent::store
