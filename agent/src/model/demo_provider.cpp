#include "model/demo_provider.h"

#include <algorithm>
#include <cctype>
#include <thread>

namespace agent::model {
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

bool asks_for_time(const std::string& text) {
  const std::string t = lower(text);
  return t.find("time") != std::string::npos || t.find("date") != std::string::npos ||
         t.find("clock") != std::string::npos;
}

// Splits text into pieces of one word plus its following whitespace, as a tokenizer would.
std::vector<std::string> pieces(const std::string& text) {
  std::vector<std::string> out;
  std::string current;
  for (std::size_t i = 0; i < text.size(); ++i) {
    current.push_back(text[i]);
    const bool space = text[i] == ' ' || text[i] == '\n';
    const bool next_word = i + 1 < text.size() && text[i + 1] != ' ' && text[i + 1] != '\n';
    if (space && next_word) {
      out.push_back(std::move(current));
      current.clear();
    }
  }
  if (!current.empty()) out.push_back(std::move(current));
  return out;
}

int count_words(const std::string& text) {
  int n = 0;
  bool in_word = false;
  for (unsigned char c : text) {
    const bool space = std::isspace(c) != 0;
    if (!space && !in_word) ++n;
    in_word = !space;
  }
  return n;
}

// A short quotation of the user's words for the answer, on one line.
std::string quote(const std::string& text) {
  std::string q;
  for (char c : text) {
    if (q.size() >= 80) {
      q += "...";
      break;
    }
    q.push_back(c == '\n' || c == '`' ? ' ' : c);
  }
  return q;
}

}  // namespace

std::string demo_answer(const std::string& question) {
  return "## Demo answer\n\n"
         "You asked: *" +
         quote(question) +
         "*\n\n"
         "I am the offline **demo** model, so this answer is canned, but it shows what a real one "
         "looks like:\n\n"
         "- answers stream in as they are written, word by word;\n"
         "- they are **markdown**, with lists, `inline code` and code blocks;\n"
         "- ask me *what time is it?* to see a tool call.\n\n"
         "```python\n"
         "def greet(name: str) -> str:\n"
         "    return f\"Hello, {name}!\"\n"
         "\n"
         "print(greet(\"agent\"))\n"
         "```\n\n"
         "Set `AGENT_MODEL_PROVIDER=bedrock` (with AWS credentials) to talk to a real model.";
}

void DemoProvider::stream(const ModelRequest& request,
                          const std::function<void(const ModelEvent&)>& on_event,
                          const std::atomic<bool>& cancelled) {
  const auto started = std::chrono::steady_clock::now();
  int input_words = count_words(request.system_prompt);
  for (const auto& message : request.messages)
    for (const auto& block : message.content)
      input_words += count_words(block.text) + count_words(block.tool_output);

  // The question is the last user message's text; a last message carrying a tool result means
  // the tool has answered and the model should report it.
  std::string question;
  const ContentBlock* tool_result = nullptr;
  if (!request.messages.empty() && request.messages.back().role == "user") {
    for (const auto& block : request.messages.back().content) {
      if (block.kind == ContentBlock::Kind::kText) question += block.text;
      if (block.kind == ContentBlock::Kind::kToolResult) tool_result = &block;
    }
  }
  const bool has_time_tool =
      std::any_of(request.tools.begin(), request.tools.end(),
                  [](const ToolSpec& t) { return t.name == "current_time"; });

  std::string text;
  bool call_tool = false;
  if (tool_result) {
    text = tool_result->tool_is_error
               ? "The clock tool failed: `" + tool_result->tool_output + "`."
               : "It is **" + tool_result->tool_output + "** (from the `current_time` tool).";
  } else if (has_time_tool && asks_for_time(question)) {
    text = "Let me check the clock.";
    call_tool = true;
  } else {
    text = demo_answer(question);
  }

  int output_tokens = 0;
  auto pause = [&] {
    if (cancelled.load()) throw ModelError("cancelled", "the turn was cancelled");
    if (std::chrono::steady_clock::now() - started > request.deadline)
      throw ModelError("timeout", "the demo model ran past its deadline", true);
    if (settings_.chunk_delay.count() > 0) std::this_thread::sleep_for(settings_.chunk_delay);
    if (cancelled.load()) throw ModelError("cancelled", "the turn was cancelled");
  };
  for (const auto& piece : pieces(text)) {
    pause();
    ModelEvent event;
    event.kind = ModelEvent::Kind::kTextDelta;
    event.text = piece;
    on_event(event);
    ++output_tokens;
  }
  if (call_tool) {
    pause();
    ModelEvent start;
    start.kind = ModelEvent::Kind::kToolUseStart;
    start.tool_use_id = "demo_" + std::to_string(request.messages.size());
    start.tool_name = "current_time";
    on_event(start);
    ModelEvent input;
    input.kind = ModelEvent::Kind::kToolUseInputDelta;
    input.tool_use_id = start.tool_use_id;
    input.text = "{}";
    on_event(input);
    ModelEvent stop_tool;
    stop_tool.kind = ModelEvent::Kind::kToolUseStop;
    stop_tool.tool_use_id = start.tool_use_id;
    on_event(stop_tool);
    output_tokens += 5;
  }
  ModelEvent stop;
  stop.kind = ModelEvent::Kind::kStop;
  stop.stop_reason = call_tool ? "tool_use" : "end_turn";
  on_event(stop);
  ModelEvent usage;
  usage.kind = ModelEvent::Kind::kUsage;
  usage.input_tokens = input_words;
  usage.output_tokens = output_tokens;
  usage.latency_ms = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                          std::chrono::steady_clock::now() - started)
                                          .count());
  on_event(usage);
}

}  // namespace agent::model
