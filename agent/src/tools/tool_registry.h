// The tools offered to the model, and the one place that runs them: with a deadline (a tool that
// overruns is abandoned and reported as a timeout), with exceptions and unknown names turned
// into error results, and with outputs cut to a size limit.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "model/model_provider.h"
#include "tools/tool.h"

namespace agent::tools {

struct ToolLimits {
  std::chrono::milliseconds timeout{10'000};  // AGENT_TOOL_TIMEOUT
  std::size_t max_result_bytes = 16 * 1024;   // AGENT_TOOL_RESULT_MAX_BYTES
};

class ToolRegistry {
 public:
  explicit ToolRegistry(ToolLimits limits) : limits_(limits) {}

  void add(std::shared_ptr<Tool> tool);
  std::vector<model::ToolSpec> specs() const;
  // Never throws.
  ToolResult run(const std::string& name, const nlohmann::json& input) const;

 private:
  ToolResult truncate(ToolResult result) const;

  ToolLimits limits_;
  std::vector<std::shared_ptr<Tool>> tools_;
};

}  // namespace agent::tools
