// The tool registry (deadline, cancellation, bounded workers, unique names, output limit) and
// the built-in current_time tool.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "tools/current_time_tool.h"
#include "tools/tool_registry.h"

namespace agent::tools {
namespace {

class SleepyTool : public Tool {
 public:
  std::string name() const override { return "sleepy"; }
  std::string description() const override { return "ignores its deadline"; }
  nlohmann::json input_schema() const override { return {{"type", "object"}}; }
  ToolResult run(const nlohmann::json&, const ToolContext&) override {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    return {"late", false};
  }
};

class ChattyTool : public Tool {
 public:
  std::string name() const override { return "chatty"; }
  std::string description() const override { return "says too much"; }
  nlohmann::json input_schema() const override { return {{"type", "object"}}; }
  ToolResult run(const nlohmann::json&, const ToolContext&) override {
    return {std::string(100, 'a') + "é" + std::string(100, 'b'), false};
  }
};

// Hangs, ignoring its deadline and stop flag, until the test lets it go; counts how many run at
// once.
class HangingTool : public Tool {
 public:
  std::atomic<int> running{0};
  std::atomic<int> most{0};
  std::atomic<bool> release{false};
  std::string name() const override { return "hang"; }
  std::string description() const override { return "never returns by itself"; }
  nlohmann::json input_schema() const override { return {{"type", "object"}}; }
  ToolResult run(const nlohmann::json&, const ToolContext&) override {
    const int now = ++running;
    for (int seen = most.load(); now > seen && !most.compare_exchange_weak(seen, now);) {
    }
    while (!release.load()) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    --running;
    return {"finally", false};
  }
};

// Works until told to stop, then says so.
class PoliteTool : public Tool {
 public:
  std::atomic<bool> saw_stop{false};
  std::string name() const override { return "polite"; }
  std::string description() const override { return "stops when asked"; }
  nlohmann::json input_schema() const override { return {{"type", "object"}}; }
  ToolResult run(const nlohmann::json&, const ToolContext& context) override {
    while (!context.stop_requested() && std::chrono::steady_clock::now() < context.deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    saw_stop.store(context.stop_requested());
    return {"stopped early", false};
  }
};

TEST(ToolRegistry, ASecondToolWithATakenNameIsRefused) {
  ToolRegistry registry({});
  registry.add(std::make_shared<CurrentTimeTool>());
  EXPECT_THROW(registry.add(std::make_shared<CurrentTimeTool>()), std::invalid_argument);
  EXPECT_EQ(registry.specs().size(), 1u);
  EXPECT_EQ(registry.names(), std::vector<std::string>{"current_time"});
}

TEST(ToolRegistry, HungToolsHoldAtMostTheWorkersNotANewThreadEachAndCallsStillReturn) {
  ToolRegistry registry({std::chrono::milliseconds(60), 1024, 2});
  auto tool = std::make_shared<HangingTool>();
  registry.add(tool);
  std::vector<ToolResult> results;
  for (int i = 0; i < 5; ++i) {
    const auto started = std::chrono::steady_clock::now();
    results.push_back(registry.run("hang", nlohmann::json::object()));
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(400));
  }
  EXPECT_EQ(tool->most.load(), 2) << "more tools ran at once than there are workers";
  EXPECT_EQ(results[0].output, "tool timed out after 60 ms");
  EXPECT_EQ(results[1].output, "tool timed out after 60 ms");
  for (int i = 2; i < 5; ++i) {
    EXPECT_TRUE(results[i].is_error);
    EXPECT_EQ(results[i].output, "no tool worker was free within 60 ms (all 2 busy)");
  }
  // Freed, the workers take calls again.
  tool->release.store(true);
  for (int i = 0; i < 100 && tool->running.load() > 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(registry.run("hang", nlohmann::json::object()).output, "finally");
}

TEST(ToolRegistry, CancellingReturnsAtOnceAndTellsTheToolToStop) {
  ToolRegistry registry({std::chrono::seconds(10), 1024, 1});
  auto tool = std::make_shared<PoliteTool>();
  registry.add(tool);
  std::atomic<bool> cancelled{false};
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    cancelled.store(true);
  });
  const auto started = std::chrono::steady_clock::now();
  const auto result = registry.run("polite", nlohmann::json::object(), cancelled);
  const auto took = std::chrono::steady_clock::now() - started;
  canceller.join();
  EXPECT_GE(took, std::chrono::milliseconds(50));
  EXPECT_LT(took, std::chrono::milliseconds(500));
  EXPECT_TRUE(result.is_error);
  EXPECT_EQ(result.output, "the tool was stopped: the turn was cancelled");
  for (int i = 0; i < 100 && !tool->saw_stop.load(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_TRUE(tool->saw_stop.load());
}

TEST(ToolRegistry, OffersEachToolsNameDescriptionAndSchema) {
  ToolRegistry registry({});
  registry.add(std::make_shared<CurrentTimeTool>());
  const auto specs = registry.specs();
  ASSERT_EQ(specs.size(), 1u);
  EXPECT_EQ(specs[0].name, "current_time");
  EXPECT_EQ(specs[0].input_schema["type"], "object");
  EXPECT_FALSE(specs[0].description.empty());
}

TEST(ToolRegistry, AToolPastItsTimeoutIsAnErrorResult) {
  ToolRegistry registry({std::chrono::milliseconds(50), 1024});
  registry.add(std::make_shared<SleepyTool>());
  const auto started = std::chrono::steady_clock::now();
  const auto result = registry.run("sleepy", nlohmann::json::object());
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(400));
  EXPECT_TRUE(result.is_error);
  EXPECT_EQ(result.output, "tool timed out after 50 ms");
}

TEST(ToolRegistry, OutputsAreCutToTheLimitOnACharacterBoundary) {
  ToolRegistry registry({std::chrono::seconds(1), 101});
  registry.add(std::make_shared<ChattyTool>());
  const auto result = registry.run("chatty", nlohmann::json::object());
  EXPECT_FALSE(result.is_error);
  EXPECT_EQ(result.output, std::string(100, 'a') + "\n[output truncated: 202 bytes, limit 101]");
}

TEST(ToolRegistry, AnUnknownToolIsAnErrorResult) {
  ToolRegistry registry({});
  const auto result = registry.run("rm_rf", nlohmann::json::object());
  EXPECT_TRUE(result.is_error);
  EXPECT_EQ(result.output, "unknown tool: rm_rf");
}

TEST(CurrentTimeTool, GivesUtcOrTheRequestedOffset) {
  CurrentTimeTool tool([] { return std::int64_t{1'700'000'000'123}; });
  const ToolContext deadline{std::chrono::steady_clock::now() + std::chrono::seconds(1), nullptr};
  EXPECT_EQ(tool.run(nlohmann::json::object(), deadline).output, "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(tool.run({{"utc_offset", "+05:30"}}, deadline).output, "2023-11-15T03:43:20+05:30");
  EXPECT_EQ(tool.run({{"utc_offset", "-08:00"}}, deadline).output, "2023-11-14T14:13:20-08:00");
  const auto bad = tool.run({{"utc_offset", "Mars/Olympus"}}, deadline);
  EXPECT_TRUE(bad.is_error);
  EXPECT_TRUE(tool.run({{"utc_offset", 5}}, deadline).is_error);
}

}  // namespace
}  // namespace agent::tools
