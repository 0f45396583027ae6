#include "engine/turn_runner.h"

#include "engine/conversation.h"
#include "shared/logging.h"
#include "tools/tool_registry.h"

namespace agent::engine {
namespace {

// Thrown inside the runner when the turn's stop flag is seen between steps.
struct Stopped {};

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

TurnRunner::TurnRunner(const TurnSettings& settings, store::SessionStore& store,
                       model::ModelProvider& model, tools::ToolRegistry& tools,
                       shared::MetricsRegistry& metrics, TurnRecovery& recovery,
                       ToolApprovals& approvals, ActiveTurn& turn, std::int64_t assistant_seq)
    : settings_(settings),
      store_(store),
      model_(model),
      tools_(tools),
      metrics_(metrics),
      recovery_(recovery),
      approvals_(approvals),
      turn_(turn) {
  assistant_.seq = assistant_seq;
  assistant_.role = "assistant";
  assistant_.turn_id = turn.turn_id;
  assistant_.status = store::turn_status::kRunning;
}

void TurnRunner::check_stop() const {
  if (turn_.stop.load()) throw Stopped{};
}

void TurnRunner::persist() {
  last_persist_ = std::chrono::steady_clock::now();
  try {
    if (!store_.update_message(turn_.user_id, turn_.session_id, assistant_)) {
      // The session was deleted under the turn: nothing left to write to.
      turn_.request_stop(StopReason::kCancelled);
    }
  } catch (const std::exception& e) {
    shared::log::error("cannot persist the turn",
                       {{"turn_id", turn_.turn_id}, {"error", e.what()}});
  }
}

void TurnRunner::append_text(const std::string& text) {
  auto& content = assistant_.content;
  if (!content.empty() && content.back().value("type", "") == "text") {
    content.back()["text"] = content.back()["text"].get<std::string>() + text;
  } else {
    content.push_back({{"type", "text"}, {"text", text}});
  }
}

std::vector<store::StoredMessage> TurnRunner::load_history() {
  // Only the last AGENT_HISTORY_MESSAGES, read backwards from this turn's own message: the cost
  // of a turn does not grow with the length of the session.
  auto history = store_.recent_messages(turn_.user_id, turn_.session_id, settings_.history_messages,
                                        assistant_.seq);
  for (auto& m : history) {
    if (m.status == store::turn_status::kRunning && m.turn_id != turn_.turn_id) {
      // A turn that died unmarked (its lock was taken over and marking it failed then).
      recovery_.interrupt_message(turn_.user_id, turn_.session_id, m);
      m.status = store::turn_status::kInterrupted;
    }
  }
  return history;
}

TurnRunner::CallOutcome TurnRunner::call_model(const std::vector<model::Message>& messages) {
  model::ModelRequest request;
  request.system_prompt = settings_.system_prompt;
  request.messages = messages;
  request.tools = tools_.specs();
  request.max_tokens = settings_.max_tokens;
  request.deadline = std::max(std::chrono::milliseconds(1),
                              std::chrono::duration_cast<std::chrono::milliseconds>(
                                  turn_.deadline - std::chrono::steady_clock::now()));

  CallOutcome outcome;
  struct PendingTool {
    std::string name;
    std::string input_json;
  };
  std::map<std::string, PendingTool> pending;
  bool first_token = true;
  const auto started = std::chrono::steady_clock::now();
  auto mark_first_token = [&] {
    if (!first_token) return;
    first_token = false;
    metrics_
        .histogram("agent_model_time_to_first_token_seconds",
                   "Time from model call to first streamed output")
        .observe(seconds_since(started));
  };
  auto close_tool = [&](const std::string& id) {
    auto it = pending.find(id);
    if (it == pending.end()) return;
    model::ContentBlock use;
    use.kind = model::ContentBlock::Kind::kToolUse;
    use.tool_use_id = id;
    use.tool_name = it->second.name;
    auto input = it->second.input_json.empty()
                     ? nlohmann::json::object()
                     : nlohmann::json::parse(it->second.input_json, nullptr, false);
    use.tool_input = input.is_object() ? input : nlohmann::json::object();
    outcome.blocks.push_back(std::move(use));
    pending.erase(it);
  };

  auto on_event = [&](const model::ModelEvent& event) {
    using Kind = model::ModelEvent::Kind;
    switch (event.kind) {
      case Kind::kTextDelta:
        mark_first_token();
        if (event.text.empty()) break;
        append_text(event.text);
        if (!outcome.blocks.empty() &&
            outcome.blocks.back().kind == model::ContentBlock::Kind::kText) {
          outcome.blocks.back().text += event.text;
        } else {
          model::ContentBlock block;
          block.text = event.text;
          outcome.blocks.push_back(std::move(block));
        }
        turn_.updates->text(event.text);
        if (std::chrono::steady_clock::now() - last_persist_ >= settings_.persist_interval)
          persist();
        break;
      case Kind::kReasoningDelta:
        mark_first_token();
        break;
      case Kind::kToolUseStart:
        mark_first_token();
        pending[event.tool_use_id] = PendingTool{event.tool_name, ""};
        break;
      case Kind::kToolUseInputDelta:
        if (auto it = pending.find(event.tool_use_id); it != pending.end())
          it->second.input_json += event.text;
        break;
      case Kind::kToolUseStop:
        close_tool(event.tool_use_id);
        break;
      case Kind::kStop:
        outcome.stop_reason = event.stop_reason;
        break;
      case Kind::kUsage:
        assistant_.input_tokens += event.input_tokens;
        assistant_.output_tokens += event.output_tokens;
        metrics_.counter("agent_tokens_total", "Model tokens", {{"direction", "in"}})
            .inc(event.input_tokens);
        metrics_.counter("agent_tokens_total", "Model tokens", {{"direction", "out"}})
            .inc(event.output_tokens);
        turn_.updates->send("usage", {{"input_tokens", assistant_.input_tokens},
                                      {"output_tokens", assistant_.output_tokens}});
        break;
    }
  };
  try {
    model_.stream(request, on_event, turn_.stop);
  } catch (...) {
    metrics_.histogram("agent_model_latency_seconds", "Duration of one model call")
        .observe(seconds_since(started));
    throw;
  }
  metrics_.histogram("agent_model_latency_seconds", "Duration of one model call")
      .observe(seconds_since(started));
  // A stream that ended without closing a tool use still asked for it.
  while (!pending.empty()) close_tool(pending.begin()->first);
  return outcome;
}

std::optional<tools::ToolResult> TurnRunner::await_approval(const model::ContentBlock& use,
                                                            std::size_t index) {
  auto& block = assistant_.content[index];
  // Opened before it is asked, so that an answer given at once finds the call waiting.
  auto pending = approvals_.open(turn_.user_id, turn_.session_id, use.tool_use_id);
  turn_.updates->send(
      "tool.approval",
      {{"call_id", use.tool_use_id}, {"name", use.tool_name}, {"input", use.tool_input}});
  const auto until =
      std::min(turn_.deadline, std::chrono::steady_clock::now() + settings_.approvals.timeout);
  auto outcome = approvals_.wait(pending, until, turn_.stop);
  if (outcome == ToolApprovals::Outcome::kTimedOut &&
      std::chrono::steady_clock::now() >= turn_.deadline) {
    // The turn's deadline ended the wait, not the approval timeout.
    turn_.request_stop(StopReason::kDeadline);
    outcome = ToolApprovals::Outcome::kStopped;
  }
  switch (outcome) {
    case ToolApprovals::Outcome::kApproved:
      block["approval"] = "approved";
      persist();
      return std::nullopt;
    case ToolApprovals::Outcome::kDenied:
      block["approval"] = "denied";
      return tools::ToolResult{"denied by the user", true};
    case ToolApprovals::Outcome::kTimedOut:
      block["approval"] = "timed_out";
      return tools::ToolResult{"approval timed out", true};
    case ToolApprovals::Outcome::kStopped:
      break;
  }
  // The turn was stopped while the call waited: it never ran.
  block["approval"] = "cancelled";
  persist();
  throw Stopped{};
}

model::ContentBlock TurnRunner::run_tool(const model::ContentBlock& use) {
  auto& content = assistant_.content;
  const bool needs_approval = settings_.approvals.required(use.tool_name);
  nlohmann::json call = {{"type", "tool_call"},
                         {"call_id", use.tool_use_id},
                         {"name", use.tool_name},
                         {"input", use.tool_input}};
  if (needs_approval) call["approval"] = "pending";
  content.push_back(std::move(call));
  const std::size_t index = content.size() - 1;
  persist();
  turn_.updates->send(
      "tool.call",
      {{"call_id", use.tool_use_id}, {"name", use.tool_name}, {"input", use.tool_input}});

  std::optional<tools::ToolResult> refused;
  if (needs_approval) refused = await_approval(use, index);
  const auto started = std::chrono::steady_clock::now();
  const auto result = refused ? *refused : tools_.run(use.tool_name, use.tool_input, turn_.stop);
  const char* outcome = refused ? "refused" : result.is_error ? "error" : "ok";
  metrics_
      .counter("agent_tool_calls_total", "Tool calls",
               {{"tool", use.tool_name}, {"outcome", outcome}})
      .inc();
  if (!refused)
    metrics_
        .histogram("agent_tool_latency_seconds", "Tool run duration", shared::latency_buckets(),
                   {{"tool", use.tool_name}})
        .observe(seconds_since(started));

  content[index]["output"] = result.output;
  content[index]["is_error"] = result.is_error;
  persist();
  turn_.updates->send(
      "tool.result",
      {{"call_id", use.tool_use_id}, {"output", result.output}, {"is_error", result.is_error}});

  model::ContentBlock block;
  block.kind = model::ContentBlock::Kind::kToolResult;
  block.tool_use_id = use.tool_use_id;
  block.tool_output = result.output;
  block.tool_is_error = result.is_error;
  return block;
}

std::string TurnRunner::run() {
  auto& updates = *turn_.updates;
  updates.send("turn.start");
  std::string error_code, error_message;
  try {
    auto messages = to_model_messages(load_history());
    int tool_calls = 0;
    while (true) {
      check_stop();
      auto outcome = call_model(messages);
      std::vector<model::ContentBlock> uses;
      for (const auto& block : outcome.blocks)
        if (block.kind == model::ContentBlock::Kind::kToolUse) uses.push_back(block);
      if (uses.empty()) {
        assistant_.stop_reason = outcome.stop_reason.empty() ? "end_turn" : outcome.stop_reason;
        break;
      }
      persist();
      model::Message results{"user", {}};
      bool limit_hit = false;
      for (const auto& use : uses) {
        if (tool_calls >= settings_.max_tool_calls) {
          limit_hit = true;
          break;
        }
        check_stop();
        ++tool_calls;
        results.content.push_back(run_tool(use));
      }
      if (limit_hit) {
        assistant_.stop_reason = "tool_call_limit";
        break;
      }
      messages.push_back(model::Message{"assistant", std::move(outcome.blocks)});
      messages.push_back(std::move(results));
    }
    assistant_.status = store::turn_status::kComplete;
  } catch (const Stopped&) {
  } catch (const model::ModelError& e) {
    // The model call is given the turn's deadline too, and may give up at it just before the
    // engine's ticker stops the turn: that is the deadline, not a model failure.
    if (!turn_.stop.load() && std::chrono::steady_clock::now() >= turn_.deadline)
      turn_.request_stop(StopReason::kDeadline);
    if (!turn_.stop.load()) {
      assistant_.status = store::turn_status::kError;
      error_code = e.code();
      error_message = e.what();
    }
  } catch (const std::exception& e) {
    shared::log::error("turn failed", {{"turn_id", turn_.turn_id}, {"error", e.what()}});
    assistant_.status = store::turn_status::kError;
    error_code = "internal";
    error_message = e.what();
  }
  if (assistant_.status == store::turn_status::kRunning) {
    switch (turn_.reason()) {
      case StopReason::kCancelled:
        assistant_.status = store::turn_status::kCancelled;
        assistant_.stop_reason = "cancelled";
        break;
      case StopReason::kInterrupted:
        assistant_.status = store::turn_status::kInterrupted;
        error_code = "interrupted";
        error_message = "the agent stopped before the turn finished";
        break;
      case StopReason::kDeadline:
        assistant_.status = store::turn_status::kError;
        error_code = "deadline_exceeded";
        error_message = "the turn ran past its deadline of " +
                        std::to_string(settings_.deadline.count()) + " ms";
        break;
      case StopReason::kNone:
        assistant_.status = store::turn_status::kError;
        error_code = "internal";
        error_message = "the turn ended without a reason";
        break;
    }
  }
  assistant_.error_code = error_code;
  assistant_.error_message = error_message;
  // Before the final write: a client that reads it and sends the next message at once must find
  // this turn finishing (and wait for it), not running (409).
  turn_.finishing.store(true);
  persist();
  updates.flush(true);
  if (error_code.empty()) {
    updates.send("turn.done", {{"stop_reason", assistant_.stop_reason}});
  } else {
    updates.send("turn.error", {{"code", error_code}, {"message", error_message}});
  }
  return assistant_.status;
}

}  // namespace agent::engine
