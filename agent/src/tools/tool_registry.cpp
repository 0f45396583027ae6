#include "tools/tool_registry.h"

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <stdexcept>

namespace agent::tools {
namespace {

// How soon a waiting caller notices the turn's cancellation.
constexpr auto kCancelPoll = std::chrono::milliseconds(20);

}  // namespace

ToolRegistry::ToolRegistry(ToolLimits limits)
    : limits_(limits),
      workers_(std::make_unique<ToolWorkers>(std::max<std::size_t>(1, limits.workers))) {}

void ToolRegistry::add(std::shared_ptr<Tool> tool) {
  if (has(tool->name()))
    throw std::invalid_argument("a tool named " + tool->name() + " is already registered");
  tools_.push_back(std::move(tool));
}

bool ToolRegistry::has(const std::string& name) const {
  for (const auto& t : tools_)
    if (t->name() == name) return true;
  return false;
}

std::vector<std::string> ToolRegistry::names() const {
  std::vector<std::string> names;
  for (const auto& t : tools_) names.push_back(t->name());
  return names;
}

std::vector<model::ToolSpec> ToolRegistry::specs() const {
  std::vector<model::ToolSpec> specs;
  for (const auto& tool : tools_)
    specs.push_back({tool->name(), tool->description(), tool->input_schema()});
  return specs;
}

ToolResult ToolRegistry::truncate(ToolResult result) const {
  if (result.output.size() <= limits_.max_result_bytes) return result;
  std::size_t cut = limits_.max_result_bytes;
  // Do not cut a UTF-8 sequence in half.
  while (cut > 0 && (static_cast<unsigned char>(result.output[cut]) & 0xC0) == 0x80) --cut;
  const auto original = result.output.size();
  result.output.resize(cut);
  result.output += "\n[output truncated: " + std::to_string(original) + " bytes, limit " +
                   std::to_string(limits_.max_result_bytes) + "]";
  return result;
}

ToolResult ToolRegistry::run(const std::string& name, const nlohmann::json& input) const {
  const std::atomic<bool> never{false};
  return run(name, input, never);
}

ToolResult ToolRegistry::run(const std::string& name, const nlohmann::json& input,
                             const std::atomic<bool>& cancelled) const {
  std::shared_ptr<Tool> tool;
  for (const auto& t : tools_)
    if (t->name() == name) tool = t;
  if (!tool) return {"unknown tool: " + name, true};

  // Shared with the worker, which may finish after this call has returned.
  struct Outcome {
    std::mutex mutex;
    std::condition_variable done;
    bool started = false;
    std::optional<ToolResult> result;
  };
  auto outcome = std::make_shared<Outcome>();
  auto stop = std::make_shared<std::atomic<bool>>(false);
  const ToolContext context{std::chrono::steady_clock::now() + limits_.timeout, stop};
  workers_->submit(
      [tool, input, context, outcome] {
        {
          std::lock_guard lock(outcome->mutex);
          outcome->started = true;
        }
        ToolResult result;
        try {
          result = tool->run(input, context);
        } catch (const std::exception& e) {
          result = {std::string("tool failed: ") + e.what(), true};
        } catch (...) {
          result = {"tool failed", true};
        }
        std::lock_guard lock(outcome->mutex);
        outcome->result = std::move(result);
        outcome->done.notify_all();
      },
      stop);

  std::unique_lock lock(outcome->mutex);
  while (!outcome->result) {
    const auto now = std::chrono::steady_clock::now();
    if (cancelled.load()) {
      stop->store(true);
      return {"the tool was stopped: the turn was cancelled", true};
    }
    if (now >= context.deadline) {
      stop->store(true);
      const auto limit = std::to_string(limits_.timeout.count()) + " ms";
      if (!outcome->started)
        return {"no tool worker was free within " + limit + " (all " +
                    std::to_string(limits_.workers) + " busy)",
                true};
      return {"tool timed out after " + limit, true};
    }
    outcome->done.wait_until(lock, std::min(context.deadline, now + kCancelPoll));
  }
  return truncate(std::move(*outcome->result));
}

}  // namespace agent::tools
