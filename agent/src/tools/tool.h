// A tool the model may call: a name, a description and a JSON Schema for its input, and a run
// that must finish by the deadline it is given. Failures are results (is_error), not exceptions
// that end the turn: the model reads the error and decides what to do.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

namespace agent::tools {

struct ToolResult {
  std::string output;
  bool is_error = false;
};

class Tool {
 public:
  virtual ~Tool() = default;
  virtual std::string name() const = 0;
  virtual std::string description() const = 0;
  virtual nlohmann::json input_schema() const = 0;
  // May throw; the registry turns exceptions into error results.
  virtual ToolResult run(const nlohmann::json& input,
                         std::chrono::steady_clock::time_point deadline) = 0;
};

}  // namespace agent::tools
