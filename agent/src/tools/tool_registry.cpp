#include "tools/tool_registry.h"

#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

namespace agent::tools {

void ToolRegistry::add(std::shared_ptr<Tool> tool) { tools_.push_back(std::move(tool)); }

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
  std::shared_ptr<Tool> tool;
  for (const auto& t : tools_)
    if (t->name() == name) tool = t;
  if (!tool) return {"unknown tool: " + name, true};

  // The tool runs on its own thread so that one which ignores its deadline cannot hold the turn;
  // the shared state outlives an abandoned thread.
  struct Outcome {
    std::mutex mutex;
    std::condition_variable done;
    std::optional<ToolResult> result;
  };
  auto outcome = std::make_shared<Outcome>();
  const auto deadline = std::chrono::steady_clock::now() + limits_.timeout;
  std::thread([tool, input, deadline, outcome] {
    ToolResult result;
    try {
      result = tool->run(input, deadline);
    } catch (const std::exception& e) {
      result = {std::string("tool failed: ") + e.what(), true};
    } catch (...) {
      result = {"tool failed", true};
    }
    std::lock_guard lock(outcome->mutex);
    outcome->result = std::move(result);
    outcome->done.notify_all();
  }).detach();

  std::unique_lock lock(outcome->mutex);
  if (!outcome->done.wait_until(lock, deadline, [&] { return outcome->result.has_value(); }))
    return {"tool timed out after " + std::to_string(limits_.timeout.count()) + " ms", true};
  return truncate(std::move(*outcome->result));
}

}  // namespace agent::tools
