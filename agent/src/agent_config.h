// The agent's settings (DESIGN §3), read and validated in one place.
#pragma once

#include <string>

#include "shared/config.h"
#include "shared/http_server.h"

namespace agent {

struct AgentConfig {
  shared::LogConfig log;
  shared::http::ServerConfig server;
  std::string model_provider = "demo";  // AGENT_MODEL_PROVIDER: bedrock|openai|demo
  std::string bedrock_model_id;         // BEDROCK_MODEL_ID
  std::string store = "sqlite";         // AGENT_STORE: sqlite|dynamodb
  std::string sqlite_path = "agent.db"; // AGENT_SQLITE_PATH
  std::string dynamodb_table;           // AGENT_DYNAMODB_TABLE
  bool dynamodb_create_table = false;   // AGENT_DYNAMODB_CREATE_TABLE
  std::string hub_url = "http://127.0.0.1:3701/.well-known/mercure";  // AGENT_HUB_URL
};

AgentConfig read_agent_config(const shared::ConfigSource& source);

}  // namespace agent
