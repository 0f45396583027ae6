// The built-in `current_time` tool: the current date and time in UTC (RFC 3339), or at a fixed
// UTC offset the model asks for.
#pragma once

#include <functional>

#include "tools/tool.h"

namespace agent::tools {

class CurrentTimeTool : public Tool {
 public:
  // clock_ms returns milliseconds since the epoch (tests pin it).
  explicit CurrentTimeTool(std::function<std::int64_t()> clock_ms = {});
  std::string name() const override { return "current_time"; }
  std::string description() const override;
  nlohmann::json input_schema() const override;
  ToolResult run(const nlohmann::json& input, const ToolContext& context) override;

 private:
  std::function<std::int64_t()> clock_ms_;
};

}  // namespace agent::tools
