// The offline `demo` model: deterministic, no network. It streams a useful canned markdown answer
// (a heading, a list and a code block) word by word, and when asked the time (or date) it calls
// the `current_time` tool and then reports the result, so a first run exercises every part of the
// UI: streaming text, markdown, a tool card, usage.
#pragma once

#include <chrono>

#include "model/model_provider.h"

namespace agent::model {

struct DemoSettings {
  std::chrono::milliseconds chunk_delay{20};  // AGENT_DEMO_DELAY: pause between streamed words
};

class DemoProvider : public ModelProvider {
 public:
  explicit DemoProvider(DemoSettings settings) : settings_(settings) {}
  std::string name() const override { return "demo"; }
  void stream(const ModelRequest& request, const std::function<void(const ModelEvent&)>& on_event,
              const std::atomic<bool>& cancelled) override;

 private:
  DemoSettings settings_;
};

// What the demo model answers to a question (no tool involved); exposed for tests.
std::string demo_answer(const std::string& question);

}  // namespace agent::model
