// The tools offered to the model, and the one place that runs them: on a bounded set of worker
// threads, with a deadline and the turn's cancellation (the caller returns at either, and the
// tool is told to stop), with exceptions and unknown names turned into error results, and with
// outputs cut to a size limit. Tool names are unique: a second tool with a taken name is refused
// when it is added, so that what the model is offered is what runs.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "model/model_provider.h"
#include "tools/tool.h"
#include "tools/tool_workers.h"

namespace agent::tools {

struct ToolLimits {
  std::chrono::milliseconds timeout{10'000};  // AGENT_TOOL_TIMEOUT
  std::size_t max_result_bytes = 16 * 1024;   // AGENT_TOOL_RESULT_MAX_BYTES
  std::size_t workers = 8;                    // AGENT_TOOL_WORKERS: tools running at once
};

class ToolRegistry {
 public:
  explicit ToolRegistry(ToolLimits limits);

  // Throws std::invalid_argument when a tool of that name is already there.
  void add(std::shared_ptr<Tool> tool);
  std::vector<model::ToolSpec> specs() const;
  bool has(const std::string& name) const;
  std::vector<std::string> names() const;
  // Runs the named tool; returns when it does, at its timeout, or soon after `cancelled` is set.
  // Never throws.
  ToolResult run(const std::string& name, const nlohmann::json& input,
                 const std::atomic<bool>& cancelled) const;
  ToolResult run(const std::string& name, const nlohmann::json& input) const;

 private:
  ToolResult truncate(ToolResult result) const;

  ToolLimits limits_;
  std::vector<std::shared_ptr<Tool>> tools_;
  std::unique_ptr<ToolWorkers> workers_;
};

}  // namespace agent::tools
