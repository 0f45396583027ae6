// A tool the model may call: a name, a description and a JSON Schema for its input, and a run
// that must finish by the deadline it is given and stop early when told to (the turn was
// cancelled, or the registry gave up waiting). Failures are results (is_error), not exceptions
// that end the turn: the model reads the error and decides what to do.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

namespace agent::tools {

struct ToolResult {
  std::string output;
  bool is_error = false;
};

// What a run is given besides its input. The stop flag is shared with the registry, which sets
// it when the caller stops waiting (cancel, deadline); it outlives the call, so a tool that
// returns late reads it safely.
struct ToolContext {
  std::chrono::steady_clock::time_point deadline;
  std::shared_ptr<const std::atomic<bool>> stop;
  bool stop_requested() const { return stop && stop->load(); }
};

class Tool {
 public:
  virtual ~Tool() = default;
  virtual std::string name() const = 0;
  virtual std::string description() const = 0;
  virtual nlohmann::json input_schema() const = 0;
  // May throw; the registry turns exceptions into error results.
  virtual ToolResult run(const nlohmann::json& input, const ToolContext& context) = 0;
};

}  // namespace agent::tools
