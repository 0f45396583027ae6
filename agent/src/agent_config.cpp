#include "agent_config.h"

namespace agent {

AgentConfig read_agent_config(const shared::ConfigSource& source) {
  AgentConfig c;
  c.log = shared::read_log_config(source);
  c.server = shared::http::read_server_config(source, "AGENT", "127.0.0.1:8000");
  c.model_provider = source.one_of("AGENT_MODEL_PROVIDER", "demo", {"bedrock", "openai", "demo"});
  c.bedrock_model_id = source.string("BEDROCK_MODEL_ID", "anthropic.claude-3-5-sonnet-20240620-v1:0");
  c.store = source.one_of("AGENT_STORE", "sqlite", {"sqlite", "dynamodb"});
  c.sqlite_path = source.string("AGENT_SQLITE_PATH", "agent.db");
  c.dynamodb_table = source.string("AGENT_DYNAMODB_TABLE", "");
  if (c.store == "dynamodb" && c.dynamodb_table.empty())
    throw shared::ConfigError("AGENT_DYNAMODB_TABLE", "is required when AGENT_STORE=dynamodb");
  c.dynamodb_create_table = source.boolean("AGENT_DYNAMODB_CREATE_TABLE", false);
  c.hub_url = source.url("AGENT_HUB_URL", "http://127.0.0.1:3701/.well-known/mercure");
  return c;
}

}  // namespace agent
