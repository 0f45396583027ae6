#include "engine/turn_engine.h"

#include "engine/turn_runner.h"
#include "identifiers.h"
#include "shared/logging.h"

namespace agent::engine {
namespace {

// The store lock outlives the turn deadline by this much, so that a live turn's lock is never
// taken over, while a crashed one's is freed soon after.
constexpr auto kLeaseMargin = std::chrono::seconds(60);

}  // namespace

TurnEngine::TurnEngine(TurnSettings settings, store::SessionStore& store,
                       model::ModelProvider& model, tools::ToolRegistry& tools,
                       publish::UpdatePublisher& publisher, shared::MetricsRegistry& metrics)
    : settings_(std::move(settings)),
      store_(store),
      model_(model),
      tools_(tools),
      publisher_(publisher),
      metrics_(metrics),
      pool_(settings_.workers, settings_.queue) {
  metrics_.gauge("agent_turns_running", "Turns started and not yet finished");
  ticker_ = std::thread([this] { tick(); });
}

TurnEngine::~TurnEngine() {
  shutdown();
  {
    std::lock_guard lock(mutex_);
    ticker_stop_ = true;
    ticker_wake_.notify_all();
  }
  if (ticker_.joinable()) ticker_.join();
}

StartedTurn TurnEngine::start_turn(const std::string& user_id, const std::string& session_id,
                                   const std::string& text) {
  auto turn = std::make_shared<ActiveTurn>();
  turn->user_id = user_id;
  turn->session_id = session_id;
  turn->turn_id = new_turn_id();
  turn->deadline = std::chrono::steady_clock::now() + settings_.deadline;
  turn->updates = std::make_unique<TurnUpdates>(
      publisher_, publish::session_topic(user_id, session_id), turn->turn_id, settings_.coalesce);
  const std::string k = key(user_id, session_id);
  {
    std::unique_lock lock(mutex_);
    if (stopping_) throw TurnRefused(TurnRefused::Reason::kStopping, "the agent is shutting down");
    // A client that saw the previous turn complete may send the next message while that turn
    // is still releasing its lock: wait for it rather than answer 409.
    changed_.wait_for(lock, std::chrono::seconds(5), [&] {
      auto it = active_.find(k);
      return it == active_.end() || !it->second->finishing.load();
    });
    if (active_.count(k))
      throw TurnRefused(TurnRefused::Reason::kTurnRunning,
                        "a turn is already running in this session");
    active_[k] = turn;  // reserve the session while the store is asked
  }
  auto unreserve = [&] {
    std::lock_guard lock(mutex_);
    active_.erase(k);
    changed_.notify_all();
  };

  StartedTurn started{turn->turn_id, 0, 0};
  try {
    const auto lease = now_ms() + std::chrono::duration_cast<std::chrono::milliseconds>(
                                      settings_.deadline + settings_.shutdown_grace + kLeaseMargin)
                                      .count();
    if (!store_.acquire_turn_lock(user_id, session_id, turn->turn_id, settings_.instance_id,
                                  lease)) {
      if (!store_.get_session(user_id, session_id))
        throw TurnRefused(TurnRefused::Reason::kSessionMissing, "no such session");
      throw TurnRefused(TurnRefused::Reason::kTurnRunning,
                        "a turn is already running in this session");
    }
    store::StoredMessage user_message;
    user_message.role = "user";
    user_message.turn_id = turn->turn_id;
    user_message.content = nlohmann::json::array({{{"type", "text"}, {"text", text}}});
    auto saved_user = store_.append_message(user_id, session_id, user_message);
    store::StoredMessage assistant;
    assistant.role = "assistant";
    assistant.turn_id = turn->turn_id;
    assistant.status = store::turn_status::kRunning;
    auto saved_assistant =
        saved_user ? store_.append_message(user_id, session_id, assistant) : std::nullopt;
    if (!saved_assistant) {
      store_.release_turn_lock(user_id, session_id, turn->turn_id);
      throw TurnRefused(TurnRefused::Reason::kSessionMissing, "no such session");
    }
    started.user_message_seq = saved_user->seq;
    started.assistant_message_seq = saved_assistant->seq;
    metrics_.gauge("agent_turns_running", "Turns started and not yet finished").inc();
    const auto assistant_seq = saved_assistant->seq;
    if (!pool_.try_submit([this, turn, assistant_seq] { run(turn, assistant_seq); })) {
      saved_assistant->status = store::turn_status::kError;
      saved_assistant->error_code = "busy";
      saved_assistant->error_message = "too many turns are running; try again shortly";
      store_.update_message(user_id, session_id, *saved_assistant);
      turn->updates->send("turn.error",
                          {{"code", "busy"}, {"message", saved_assistant->error_message}});
      finish(turn);
      throw TurnRefused(TurnRefused::Reason::kBusy,
                        "too many turns are running; try again shortly");
    }
  } catch (const TurnRefused& e) {
    if (e.reason() != TurnRefused::Reason::kBusy) unreserve();
    throw;
  } catch (...) {
    unreserve();
    throw;
  }
  shared::log::info("turn started", {{"turn_id", turn->turn_id}, {"session_id", session_id}});
  return started;
}

void TurnEngine::run(const std::shared_ptr<ActiveTurn>& turn, std::int64_t assistant_seq) {
  const auto started = std::chrono::steady_clock::now();
  std::string status = store::turn_status::kError;
  try {
    TurnRunner runner(settings_, store_, model_, tools_, metrics_, *turn, assistant_seq);
    status = runner.run();
  } catch (const std::exception& e) {
    shared::log::error("turn runner failed", {{"turn_id", turn->turn_id}, {"error", e.what()}});
  }
  metrics_.counter("agent_turns_total", "Turns finished", {{"status", status}}).inc();
  metrics_.histogram("agent_turn_duration_seconds", "Turn duration")
      .observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  shared::log::info("turn finished", {{"turn_id", turn->turn_id}, {"status", status}});
  finish(turn);
}

void TurnEngine::finish(const std::shared_ptr<ActiveTurn>& turn) {
  try {
    store_.release_turn_lock(turn->user_id, turn->session_id, turn->turn_id);
  } catch (const std::exception& e) {
    // The lease runs out on its own; the next turn takes the lock over then.
    shared::log::error("cannot release a turn lock",
                       {{"turn_id", turn->turn_id}, {"error", e.what()}});
  }
  std::lock_guard lock(mutex_);
  auto it = active_.find(key(turn->user_id, turn->session_id));
  if (it != active_.end() && it->second == turn) active_.erase(it);
  metrics_.gauge("agent_turns_running", "Turns started and not yet finished").dec();
  changed_.notify_all();
}

std::string TurnEngine::cancel(const std::string& user_id, const std::string& session_id) {
  std::lock_guard lock(mutex_);
  auto it = active_.find(key(user_id, session_id));
  if (it == active_.end()) return "";
  it->second->request_stop(StopReason::kCancelled);
  return it->second->turn_id;
}

bool TurnEngine::is_running(const std::string& user_id, const std::string& session_id) {
  std::lock_guard lock(mutex_);
  return active_.count(key(user_id, session_id)) > 0;
}

std::size_t TurnEngine::running_count() {
  std::lock_guard lock(mutex_);
  return active_.size();
}

void TurnEngine::tick() {
  const auto period = std::max(std::chrono::milliseconds(10),
                               std::min(settings_.coalesce, std::chrono::milliseconds(100)));
  std::unique_lock lock(mutex_);
  while (!ticker_stop_) {
    ticker_wake_.wait_for(lock, period, [this] { return ticker_stop_; });
    const auto now = std::chrono::steady_clock::now();
    std::vector<std::shared_ptr<ActiveTurn>> turns;
    for (auto& [k, turn] : active_) turns.push_back(turn);
    lock.unlock();
    for (auto& turn : turns) {
      if (now >= turn->deadline) turn->request_stop(StopReason::kDeadline);
      turn->updates->flush();
    }
    lock.lock();
  }
}

int TurnEngine::recover_abandoned_turns() {
  int recovered = 0;
  for (const auto& abandoned : store_.abandoned_turns(settings_.instance_id, now_ms())) {
    {
      std::lock_guard lock(mutex_);
      if (active_.count(key(abandoned.user_id, abandoned.session_id))) continue;  // ours and alive
    }
    std::string cursor;
    do {
      auto page = store_.list_messages(abandoned.user_id, abandoned.session_id, 200, cursor);
      for (auto& m : page.items) {
        if (m.turn_id != abandoned.turn_id || m.status != store::turn_status::kRunning) continue;
        m.status = store::turn_status::kInterrupted;
        m.error_code = "interrupted";
        m.error_message = "the agent stopped before the turn finished";
        store_.update_message(abandoned.user_id, abandoned.session_id, m);
      }
      cursor = page.next_cursor.value_or("");
    } while (!cursor.empty());
    // A browser still watching the dead turn learns it ended. The dead process's last seq is
    // unknown, so this one is set past any a turn reaches, keeping seq increasing.
    publisher_.publish(publish::session_topic(abandoned.user_id, abandoned.session_id),
                       {{"type", "turn.error"},
                        {"turn_id", abandoned.turn_id},
                        {"seq", 1000000},
                        {"code", "interrupted"},
                        {"message", "the agent stopped before the turn finished"}});
    store_.release_turn_lock(abandoned.user_id, abandoned.session_id, abandoned.turn_id);
    ++recovered;
  }
  if (recovered > 0)
    shared::log::warn("marked abandoned turns interrupted", {{"count", recovered}});
  return recovered;
}

void TurnEngine::begin_shutdown() {
  std::lock_guard lock(mutex_);
  if (stopping_) return;
  stopping_ = true;
  shutdown_started_ = std::chrono::steady_clock::now();
}

void TurnEngine::shutdown() {
  begin_shutdown();
  std::unique_lock lock(mutex_);
  const auto grace_end = shutdown_started_ + settings_.shutdown_grace;
  if (!changed_.wait_until(lock, grace_end, [this] { return active_.empty(); })) {
    shared::log::warn("interrupting turns still running at shutdown", {{"count", active_.size()}});
    for (auto& [k, turn] : active_) turn->request_stop(StopReason::kInterrupted);
    // The model stream stops at once; a running tool stops by its own timeout.
    changed_.wait(lock, [this] { return active_.empty(); });
  }
  lock.unlock();
  pool_.stop();
}

}  // namespace agent::engine
