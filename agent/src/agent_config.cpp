#include "agent_config.h"

#include <unistd.h>

#include "shared/aws/secret_settings.h"
#include "shared/jwt.h"
#include "shared/logging.h"

namespace agent {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

std::string host_name() {
  char name[256] = {0};
  if (gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') return "agent";
  return name;
}

}  // namespace

AgentConfig read_agent_config(const shared::ConfigSource& raw_source) {
  // <NAME>_SECRET_ARN: keys from Secrets Manager (shared/aws/secret_settings.h).
  const shared::ConfigSource source =
      shared::aws::resolve_secret_settings(raw_source, {"MERCURE_PUBLISHER_JWT_KEY"});
  AgentConfig c;
  c.log = shared::read_log_config(source);
  c.server = shared::http::read_server_config(source, "AGENT", "127.0.0.1:8000");

  c.model_provider = source.one_of("AGENT_MODEL_PROVIDER", "demo", {"bedrock", "openai", "demo"});
  c.bedrock_model_id =
      source.string("BEDROCK_MODEL_ID", "anthropic.claude-3-5-sonnet-20240620-v1:0");
  if (c.model_provider == "bedrock") {
    c.bedrock = model::read_bedrock_settings(source);
    shared::aws::resolve_endpoint(c.bedrock.aws, "bedrock-runtime");  // throws without a region
  }
  if (c.model_provider == "openai") {
    c.openai = model::read_openai_settings(source);
    shared::log::add_secret(c.openai.api_key);
  }
  c.demo.chunk_delay =
      source.duration("AGENT_DEMO_DELAY", milliseconds(20), milliseconds(0), seconds(10));

  c.store = source.one_of("AGENT_STORE", "sqlite", {"sqlite", "dynamodb"});
  c.sqlite.path = source.string("AGENT_SQLITE_PATH", "agent.db");
  if (c.sqlite.path.empty()) throw shared::ConfigError("AGENT_SQLITE_PATH", "must not be empty");
  c.sqlite.busy_timeout = source.duration("AGENT_SQLITE_BUSY_TIMEOUT", milliseconds(5000),
                                          milliseconds(0), seconds(60));
  c.dynamodb.table = source.string("AGENT_DYNAMODB_TABLE", "");
  if (c.store == "dynamodb" && c.dynamodb.table.empty())
    throw shared::ConfigError("AGENT_DYNAMODB_TABLE", "is required when AGENT_STORE=dynamodb");
  c.dynamodb.create_table = source.boolean("AGENT_DYNAMODB_CREATE_TABLE", false);
  c.dynamodb.ttl = std::chrono::duration_cast<seconds>(source.duration(
      "AGENT_DYNAMODB_TTL", seconds(0), seconds(0), std::chrono::hours(24 * 365 * 10)));

  if (c.store == "dynamodb" || c.model_provider == "bedrock") {
    c.aws = shared::aws::read_aws_settings(source);
    if (c.store == "dynamodb")
      shared::aws::resolve_endpoint(c.aws, "dynamodb");  // throws without a region
  }

  c.hub.url = source.url("AGENT_HUB_URL", "http://127.0.0.1:3701/.well-known/mercure");
  const auto alg_name =
      source.one_of("MERCURE_PUBLISHER_JWT_ALG", "HS256", {"HS256", "RS256", "ES256"});
  c.hub.key.algorithm = *shared::jwt::parse_algorithm(alg_name);
  c.hub.key.material = source.required_string("MERCURE_PUBLISHER_JWT_KEY");
  if (c.hub.key.algorithm == shared::jwt::Algorithm::kHS256 && c.hub.key.material.size() < 16)
    throw shared::ConfigError("MERCURE_PUBLISHER_JWT_KEY",
                              "an HS256 secret must be at least 16 bytes");
  try {
    shared::jwt::sign({{"probe", true}}, c.hub.key);
  } catch (const shared::jwt::JwtError& e) {
    throw shared::ConfigError("MERCURE_PUBLISHER_JWT_KEY",
                              std::string("cannot sign with it: ") + e.what());
  }
  shared::log::add_secret(c.hub.key.material);
  c.hub.backlog =
      static_cast<std::size_t>(source.integer("AGENT_PUBLISH_BACKLOG", 10'000, 1, 10'000'000));
  c.hub.timeout =
      source.duration("AGENT_PUBLISH_TIMEOUT", seconds(5), milliseconds(100), seconds(120));
  c.hub.max_backoff =
      source.duration("AGENT_PUBLISH_MAX_BACKOFF", seconds(5), milliseconds(100), seconds(300));
  c.hub.drain_timeout =
      source.duration("AGENT_PUBLISH_DRAIN_TIMEOUT", seconds(5), milliseconds(0), seconds(300));

  auto& t = c.turns;
  t.workers = static_cast<std::size_t>(source.integer("AGENT_TURN_WORKERS", 8, 1, 1024));
  t.queue = static_cast<std::size_t>(source.integer("AGENT_TURN_QUEUE", 64, 0, 100'000));
  t.max_tool_calls = static_cast<int>(source.integer("AGENT_MAX_TOOL_CALLS", 8, 0, 1000));
  t.deadline = source.duration("AGENT_TURN_DEADLINE", std::chrono::minutes(5), milliseconds(100),
                               std::chrono::hours(24));
  t.coalesce =
      source.duration("AGENT_PUBLISH_COALESCE", milliseconds(50), milliseconds(0), seconds(5));
  t.persist_interval =
      source.duration("AGENT_PERSIST_INTERVAL", seconds(1), milliseconds(0), seconds(60));
  t.shutdown_grace = source.duration("AGENT_SHUTDOWN_GRACE", seconds(10), milliseconds(0),
                                     std::chrono::minutes(10));
  t.history_messages = static_cast<int>(source.integer("AGENT_HISTORY_MESSAGES", 200, 1, 100'000));
  t.max_tokens = static_cast<int>(source.integer("AGENT_MAX_TOKENS", 2048, 1, 1'000'000));
  t.system_prompt =
      source.string("AGENT_SYSTEM_PROMPT",
                    "You are a helpful assistant. Answer in markdown. Use tools when they help.");
  t.instance_id = source.string("AGENT_INSTANCE_ID", host_name());
  if (t.instance_id.empty()) throw shared::ConfigError("AGENT_INSTANCE_ID", "must not be empty");
  t.lock_lease = source.duration("AGENT_TURN_LOCK_LEASE", seconds(30), milliseconds(500),
                                 std::chrono::minutes(10));
  t.lock_heartbeat = source.duration("AGENT_TURN_LOCK_HEARTBEAT", seconds(10), milliseconds(100),
                                     std::chrono::minutes(5));
  if (t.lock_heartbeat >= t.lock_lease)
    throw shared::ConfigError(
        "AGENT_TURN_LOCK_HEARTBEAT",
        "must be shorter than AGENT_TURN_LOCK_LEASE (a third of it is right)");
  t.recovery_interval = source.duration("AGENT_TURN_RECOVERY_INTERVAL", seconds(15),
                                        milliseconds(100), std::chrono::hours(24));
  for (const auto& name : source.list("AGENT_TOOLS_REQUIRE_APPROVAL", {})) {
    if (name == "*")
      t.approvals.all = true;
    else
      t.approvals.tools.insert(name);
  }
  t.approvals.timeout = source.duration("AGENT_TOOL_APPROVAL_TIMEOUT", std::chrono::minutes(5),
                                        milliseconds(100), std::chrono::hours(24));
  // The whole stop fits AGENT_DRAIN_TIMEOUT (below ECS's 30 s): the grace, at least a second to
  // save interrupted turns, then the HTTP and publish drain.
  if (t.shutdown_grace + c.hub.drain_timeout + seconds(1) > c.server.drain_timeout)
    throw shared::ConfigError("AGENT_SHUTDOWN_GRACE",
                              "plus AGENT_PUBLISH_DRAIN_TIMEOUT plus 1s must fit in "
                              "AGENT_DRAIN_TIMEOUT, the time the whole stop may take");

  c.tools.timeout =
      source.duration("AGENT_TOOL_TIMEOUT", seconds(10), milliseconds(1), std::chrono::minutes(10));
  c.tools.max_result_bytes = source.size("AGENT_TOOL_RESULT_MAX_BYTES", 16 * 1024, 64, 1024 * 1024);
  c.tools.workers = static_cast<std::size_t>(source.integer("AGENT_TOOL_WORKERS", 8, 1, 1024));

  c.api.max_message_bytes = source.size("AGENT_MAX_MESSAGE_BYTES", 32 * 1024, 1, 100 * 1024 * 1024);
  // Past the body limit the server's generic 413 would answer first: the text limit must fit.
  if (c.api.max_message_bytes + 1024 > c.server.max_body_bytes)
    throw shared::ConfigError("AGENT_MAX_MESSAGE_BYTES",
                              "plus 1 KiB for the JSON around it must fit in AGENT_MAX_BODY (" +
                                  std::to_string(c.server.max_body_bytes) + " bytes)");
  c.api.max_title_bytes = source.size("AGENT_MAX_TITLE_BYTES", 200, 1, 10'000);
  c.api.max_page_size = static_cast<int>(source.integer("AGENT_MAX_PAGE_SIZE", 200, 1, 1000));
  c.api.default_page_size = static_cast<int>(
      source.integer("AGENT_PAGE_SIZE", std::min(50, c.api.max_page_size), 1, c.api.max_page_size));
  return c;
}

}  // namespace agent
