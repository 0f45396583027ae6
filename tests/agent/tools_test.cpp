#include <gtest/gtest.h>

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
  ToolResult run(const nlohmann::json&, std::chrono::steady_clock::time_point) override {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    return {"late", false};
  }
};

class ChattyTool : public Tool {
 public:
  std::string name() const override { return "chatty"; }
  std::string description() const override { return "says too much"; }
  nlohmann::json input_schema() const override { return {{"type", "object"}}; }
  ToolResult run(const nlohmann::json&, std::chrono::steady_clock::time_point) override {
    return {std::string(100, 'a') + "é" + std::string(100, 'b'), false};
  }
};

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
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  EXPECT_EQ(tool.run(nlohmann::json::object(), deadline).output, "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(tool.run({{"utc_offset", "+05:30"}}, deadline).output, "2023-11-15T03:43:20+05:30");
  EXPECT_EQ(tool.run({{"utc_offset", "-08:00"}}, deadline).output, "2023-11-14T14:13:20-08:00");
  const auto bad = tool.run({{"utc_offset", "Mars/Olympus"}}, deadline);
  EXPECT_TRUE(bad.is_error);
  EXPECT_TRUE(tool.run({{"utc_offset", 5}}, deadline).is_error);
}

}  // namespace
}  // namespace agent::tools
