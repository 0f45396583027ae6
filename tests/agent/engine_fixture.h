// A turn engine for tests: a real SQLite store, a recording publisher, the current_time tool
// (with a pinned clock) and one that always fails, and whatever model the test gives.
#pragma once

#include <thread>

#include "engine/turn_engine.h"
#include "recording_publisher.h"
#include "store_under_test.h"
#include "tools/current_time_tool.h"

namespace agent::testing {

class FailingTool : public tools::Tool {
 public:
  std::string name() const override { return "explode"; }
  std::string description() const override { return "always fails"; }
  nlohmann::json input_schema() const override { return {{"type", "object"}}; }
  tools::ToolResult run(const nlohmann::json&, const tools::ToolContext&) override {
    throw std::runtime_error("boom");
  }
};

struct EngineFixture {
  std::unique_ptr<store::SessionStore> store = make_store_under_test("sqlite");
  RecordingPublisher publisher;
  shared::MetricsRegistry metrics;
  tools::ToolRegistry tools{tools::ToolLimits{std::chrono::milliseconds(500), 1024, 4}};
  std::unique_ptr<model::ModelProvider> model;
  std::unique_ptr<engine::TurnEngine> engine;
  std::string user = "alice";
  std::string session;

  explicit EngineFixture(std::unique_ptr<model::ModelProvider> m,
                         engine::TurnSettings settings = {},
                         std::vector<std::shared_ptr<tools::Tool>> extra_tools = {})
      : model(std::move(m)) {
    tools.add(
        std::make_shared<tools::CurrentTimeTool>([] { return std::int64_t{1'700'000'000'000}; }));
    tools.add(std::make_shared<FailingTool>());
    for (auto& tool : extra_tools) tools.add(std::move(tool));
    if (settings.instance_id.empty()) settings.instance_id = "test-proc";
    settings.coalesce = std::chrono::milliseconds(30);
    engine =
        std::make_unique<engine::TurnEngine>(settings, *store, *model, tools, publisher, metrics);
    session = store->create_session(user, "chat").id;
  }

  void wait_idle(const std::string& in_session = "") {
    const auto& s = in_session.empty() ? session : in_session;
    for (int i = 0; i < 1000 && engine->is_running(user, s); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    ASSERT_FALSE(engine->is_running(user, s));
  }
  std::vector<store::StoredMessage> messages(const std::string& in_session = "") {
    return store->list_messages(user, in_session.empty() ? session : in_session, 100, "").items;
  }
  // What a process killed mid-turn leaves: its lock and a running assistant message.
  void leave_dead_turn(const std::string& turn_id, const std::string& owner,
                       std::int64_t lease_until_ms, const std::string& in_session = "") {
    const auto& s = in_session.empty() ? session : in_session;
    ASSERT_TRUE(store->acquire_turn_lock(user, s, turn_id, owner, lease_until_ms).acquired);
    store::StoredMessage running;
    running.role = "assistant";
    running.turn_id = turn_id;
    running.status = store::turn_status::kRunning;
    running.content = nlohmann::json::array({{{"type", "text"}, {"text", "half"}}});
    ASSERT_TRUE(store->append_message(user, s, running));
  }
};

// Waits until pred() holds, for at most `within`.
template <typename Pred>
bool eventually(Pred pred, std::chrono::milliseconds within = std::chrono::seconds(5)) {
  const auto end = std::chrono::steady_clock::now() + within;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return pred();
}

}  // namespace agent::testing
