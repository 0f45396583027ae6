// The agent's settings (DESIGN §3), read and validated in one place into typed parts that the
// rest of the program receives; nothing else reads the environment.
#pragma once

#include <string>

#include "api/sessions_api.h"
#include "engine/turn_engine.h"
#include "model/bedrock_provider.h"
#include "model/demo_provider.h"
#include "model/openai_provider.h"
#include "publish/hub_publisher.h"
#include "shared/aws/settings.h"
#include "shared/config.h"
#include "shared/http_server.h"
#include "store/sqlite_session_store.h"
#include "tools/tool_registry.h"

namespace agent {

struct DynamoSettings {
  std::string table;          // AGENT_DYNAMODB_TABLE
  bool create_table = false;  // AGENT_DYNAMODB_CREATE_TABLE
  std::chrono::seconds ttl{
      0};  // AGENT_DYNAMODB_TTL: items expire this long after their last write; 0 = never
};

struct AgentConfig {
  shared::LogConfig log;
  shared::http::ServerConfig server;
  std::string model_provider = "demo";  // AGENT_MODEL_PROVIDER: bedrock|openai|demo
  std::string bedrock_model_id;         // BEDROCK_MODEL_ID
  model::DemoSettings demo;
  model::BedrockSettings bedrock;  // BEDROCK_* (read when AGENT_MODEL_PROVIDER=bedrock)
  model::OpenAiSettings openai;    // OPENAI_* (read when AGENT_MODEL_PROVIDER=openai)
  std::string store = "sqlite";    // AGENT_STORE: sqlite|dynamodb
  store::SqliteSettings sqlite;
  DynamoSettings dynamodb;
  shared::aws::AwsSettings aws;  // AWS_* (read when the store or the model is on AWS)
  publish::HubSettings hub;
  engine::TurnSettings turns;
  tools::ToolLimits tools;
  api::ApiSettings api;
};

AgentConfig read_agent_config(const shared::ConfigSource& source);

}  // namespace agent
