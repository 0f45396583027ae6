// A model provider for engine tests that runs a script: each call gets the request and emits
// what the test says, so that tool loops, cancellations and failures can be staged exactly.
#pragma once

#include <functional>
#include <mutex>
#include <thread>

#include "model/model_provider.h"

namespace agent::testing {

class ScriptedModel : public model::ModelProvider {
 public:
  using Script = std::function<void(const model::ModelRequest&,
                                    const std::function<void(const model::ModelEvent&)>&,
                                    const std::atomic<bool>&, int call_index)>;
  explicit ScriptedModel(Script script) : script_(std::move(script)) {}
  std::string name() const override { return "scripted"; }
  void stream(const model::ModelRequest& request,
              const std::function<void(const model::ModelEvent&)>& on_event,
              const std::atomic<bool>& cancelled) override {
    int index;
    {
      std::lock_guard lock(mutex_);
      index = calls_++;
      requests_.push_back(request);
    }
    script_(request, on_event, cancelled, index);
  }
  std::vector<model::ModelRequest> requests() {
    std::lock_guard lock(mutex_);
    return requests_;
  }

 private:
  Script script_;
  std::mutex mutex_;
  int calls_ = 0;
  std::vector<model::ModelRequest> requests_;
};

inline model::ModelEvent text_event(const std::string& text) {
  model::ModelEvent e;
  e.kind = model::ModelEvent::Kind::kTextDelta;
  e.text = text;
  return e;
}

inline model::ModelEvent stop_event(const std::string& reason) {
  model::ModelEvent e;
  e.kind = model::ModelEvent::Kind::kStop;
  e.stop_reason = reason;
  return e;
}

inline void emit_tool_use(const std::function<void(const model::ModelEvent&)>& on_event,
                          const std::string& id, const std::string& name,
                          const std::string& input_json) {
  model::ModelEvent start;
  start.kind = model::ModelEvent::Kind::kToolUseStart;
  start.tool_use_id = id;
  start.tool_name = name;
  on_event(start);
  model::ModelEvent input;
  input.kind = model::ModelEvent::Kind::kToolUseInputDelta;
  input.tool_use_id = id;
  input.text = input_json;
  on_event(input);
  model::ModelEvent stop;
  stop.kind = model::ModelEvent::Kind::kToolUseStop;
  stop.tool_use_id = id;
  on_event(stop);
}

// Sleeps in small steps, throwing ModelError("cancelled") as a real provider does.
inline void wait_or_cancel(const std::atomic<bool>& cancelled, std::chrono::milliseconds total) {
  const auto end = std::chrono::steady_clock::now() + total;
  while (std::chrono::steady_clock::now() < end) {
    if (cancelled.load()) throw model::ModelError("cancelled", "cancelled");
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  if (cancelled.load()) throw model::ModelError("cancelled", "cancelled");
}

}  // namespace agent::testing
