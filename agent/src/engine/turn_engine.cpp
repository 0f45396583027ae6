#include "engine/turn_engine.h"

#include "engine/turn_runner.h"
#include "identifiers.h"
#include "shared/logging.h"

namespace agent::engine {
namespace {

constexpr const char* kTurnsRunningHelp = "Turns started and not yet finished";
// How long a new message waits for the lock of a turn that has ended but not yet let go of it
// (it ends in another process, or another instance is recovering it), instead of a 409.
constexpr auto kEndedLockWait = std::chrono::seconds(2);
constexpr auto kEndedLockPoll = std::chrono::milliseconds(100);
constexpr const char* kTurnDurationHelp = "Turn duration, from start to its final state";

}  // namespace

std::vector<double> turn_duration_buckets(std::chrono::milliseconds deadline) {
  const double limit = std::chrono::duration<double>(deadline).count();
  std::vector<double> buckets;
  for (double b : {0.1,   0.25,  0.5,   1.0,   2.5,    5.0,    10.0,   20.0,    30.0,    60.0,
                   120.0, 180.0, 300.0, 600.0, 1800.0, 3600.0, 7200.0, 21600.0, 43200.0, 86400.0})
    if (b < limit) buckets.push_back(b);
  buckets.push_back(limit);
  return buckets;
}

TurnEngine::TurnEngine(TurnSettings settings, store::SessionStore& store,
                       model::ModelProvider& model, tools::ToolRegistry& tools,
                       publish::UpdatePublisher& publisher, shared::MetricsRegistry& metrics)
    : settings_(std::move(settings)),
      store_(store),
      model_(model),
      tools_(tools),
      publisher_(publisher),
      metrics_(metrics),
      recovery_(settings_, store_, publisher_),
      pool_(settings_.workers, settings_.queue) {
  metrics_.gauge("agent_turns_running", kTurnsRunningHelp);
  metrics_.histogram("agent_turn_duration_seconds", kTurnDurationHelp,
                     turn_duration_buckets(settings_.deadline));
  ticker_ = std::thread([this] { tick(); });
  lease_keeper_ = std::thread([this] { keep_leases(); });
}

TurnEngine::~TurnEngine() {
  shutdown();
  {
    std::lock_guard lock(mutex_);
    threads_stop_ = true;
    threads_wake_.notify_all();
  }
  if (ticker_.joinable()) ticker_.join();
  if (lease_keeper_.joinable()) lease_keeper_.join();
}

std::int64_t TurnEngine::lease_from_now() const { return now_ms() + settings_.lock_lease.count(); }

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
    auto it = active_.find(k);
    if (it != active_.end() && it->second == turn) active_.erase(it);
    changed_.notify_all();
  };

  // Admission first: a turn no worker can take is refused before anything is stored.
  auto slot = pool_.reserve();
  if (!slot) {
    unreserve();
    throw TurnRefused(TurnRefused::Reason::kBusy, "too many turns are running; try again shortly");
  }
  StartedTurn started{turn->turn_id, 0, 0};
  try {
    auto grant = store_.acquire_turn_lock(user_id, session_id, turn->turn_id, settings_.instance_id,
                                          lease_from_now());
    const auto give_up = std::chrono::steady_clock::now() + kEndedLockWait;
    while (!grant.acquired && std::chrono::steady_clock::now() < give_up &&
           last_turn_ended(user_id, session_id)) {
      std::this_thread::sleep_for(kEndedLockPoll);
      grant = store_.acquire_turn_lock(user_id, session_id, turn->turn_id, settings_.instance_id,
                                       lease_from_now());
    }
    if (!grant.acquired) {
      if (!store_.get_session(user_id, session_id))
        throw TurnRefused(TurnRefused::Reason::kSessionMissing, "no such session");
      throw TurnRefused(TurnRefused::Reason::kTurnRunning,
                        "a turn is already running in this session");
    }
    turn->lock_held.store(true);
    try {
      if (!grant.replaced_turn_id.empty())
        recovery_.interrupt(user_id, session_id, grant.replaced_turn_id);
    } catch (const std::exception& e) {
      // The new turn's history load marks it instead (TurnRunner).
      shared::log::error("cannot mark the turn whose lock this one took over",
                         {{"turn_id", grant.replaced_turn_id}, {"error", e.what()}});
    }
    try {
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
      if (!saved_assistant)
        throw TurnRefused(TurnRefused::Reason::kSessionMissing, "no such session");
      started.user_message_seq = saved_user->seq;
      started.assistant_message_seq = saved_assistant->seq;
    } catch (...) {
      store_.release_turn_lock(user_id, session_id, turn->turn_id);
      throw;
    }
  } catch (...) {
    unreserve();
    throw;
  }
  metrics_.gauge("agent_turns_running", kTurnsRunningHelp).inc();
  const auto assistant_seq = started.assistant_message_seq;
  if (!slot.submit([this, turn, assistant_seq] { run(turn, assistant_seq); })) {
    // Only when a bounded shutdown gave up on the workers: say so rather than leave it running.
    turn->request_stop(StopReason::kInterrupted);
    try {
      recovery_.interrupt(user_id, session_id, turn->turn_id);
    } catch (const std::exception& e) {
      shared::log::error("cannot mark a turn refused at shutdown", {{"error", e.what()}});
    }
    finish(turn);
    throw TurnRefused(TurnRefused::Reason::kStopping, "the agent is shutting down");
  }
  shared::log::info("turn started", {{"turn_id", turn->turn_id}, {"session_id", session_id}});
  return started;
}

void TurnEngine::run(const std::shared_ptr<ActiveTurn>& turn, std::int64_t assistant_seq) {
  const auto started = std::chrono::steady_clock::now();
  std::string status = store::turn_status::kError;
  try {
    TurnRunner runner(settings_, store_, model_, tools_, metrics_, recovery_, approvals_, *turn,
                      assistant_seq);
    status = runner.run();
  } catch (const std::exception& e) {
    shared::log::error("turn runner failed", {{"turn_id", turn->turn_id}, {"error", e.what()}});
  }
  metrics_.counter("agent_turns_total", "Turns finished", {{"status", status}}).inc();
  metrics_
      .histogram("agent_turn_duration_seconds", kTurnDurationHelp,
                 turn_duration_buckets(settings_.deadline))
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
  turn->lock_held.store(false);
  std::lock_guard lock(mutex_);
  auto it = active_.find(key(turn->user_id, turn->session_id));
  if (it != active_.end() && it->second == turn) active_.erase(it);
  metrics_.gauge("agent_turns_running", kTurnsRunningHelp).dec();
  changed_.notify_all();
}

std::string TurnEngine::cancel(const std::string& user_id, const std::string& session_id) {
  std::lock_guard lock(mutex_);
  auto it = active_.find(key(user_id, session_id));
  if (it == active_.end()) return "";
  it->second->request_stop(StopReason::kCancelled);
  return it->second->turn_id;
}

ToolApprovals::Answer TurnEngine::decide_approval(const std::string& user_id,
                                                  const std::string& session_id,
                                                  const std::string& call_id, bool approved) {
  return approvals_.decide(user_id, session_id, call_id, approved);
}

bool TurnEngine::is_running(const std::string& user_id, const std::string& session_id) {
  std::lock_guard lock(mutex_);
  return active_.count(key(user_id, session_id)) > 0;
}

std::size_t TurnEngine::running_count() {
  std::lock_guard lock(mutex_);
  return active_.size();
}

bool TurnEngine::accepting() {
  std::lock_guard lock(mutex_);
  return !stopping_;
}

bool TurnEngine::last_turn_ended(const std::string& user_id, const std::string& session_id) {
  const auto last = store_.recent_messages(user_id, session_id, 1, 0);
  return !last.empty() && last[0].role == "assistant" &&
         last[0].status != store::turn_status::kRunning;
}

bool TurnEngine::is_live(const std::string& user_id, const std::string& session_id,
                         const std::string& turn_id) {
  std::lock_guard lock(mutex_);
  auto it = active_.find(key(user_id, session_id));
  return it != active_.end() && it->second->turn_id == turn_id;
}

void TurnEngine::tick() {
  const auto period = std::max(std::chrono::milliseconds(10),
                               std::min(settings_.coalesce, std::chrono::milliseconds(100)));
  std::unique_lock lock(mutex_);
  while (!threads_stop_) {
    threads_wake_.wait_for(lock, period, [this] { return threads_stop_; });
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

// Its own thread, apart from the ticker: store calls may be slow and must not hold up the
// flushing of text deltas.
void TurnEngine::keep_leases() {
  auto next_sweep = std::chrono::steady_clock::now() + settings_.recovery_interval;
  const auto period = std::min(settings_.lock_heartbeat, settings_.recovery_interval);
  std::unique_lock lock(mutex_);
  while (!threads_stop_) {
    threads_wake_.wait_for(lock, period, [this] { return threads_stop_; });
    if (threads_stop_) break;
    std::vector<std::shared_ptr<ActiveTurn>> turns;
    for (auto& [k, turn] : active_)
      if (turn->lock_held.load() && !turn->finishing.load()) turns.push_back(turn);
    lock.unlock();
    const auto now = std::chrono::steady_clock::now();
    for (auto& turn : turns) {
      // A turn still here a lease after its deadline is wedged: let its lease lapse so that the
      // session is freed and the turn recovered, instead of holding it for ever.
      if (now > turn->deadline + settings_.lock_lease) continue;
      try {
        if (!store_.renew_turn_lock(turn->user_id, turn->session_id, turn->turn_id,
                                    lease_from_now()) &&
            turn->lock_held.load() && !turn->finishing.load()) {
          // Taken over after the lease ran out (the store was unreachable for longer than the
          // lease): another instance has marked this turn; stop it.
          shared::log::warn("lost the turn lock; stopping the turn", {{"turn_id", turn->turn_id}});
          turn->request_stop(StopReason::kInterrupted);
        }
      } catch (const std::exception& e) {
        shared::log::warn("cannot renew a turn lock; retrying",
                          {{"turn_id", turn->turn_id}, {"error", e.what()}});
      }
    }
    if (std::chrono::steady_clock::now() >= next_sweep) {
      try {
        recover_abandoned_turns(false);
      } catch (const std::exception& e) {
        shared::log::warn("cannot sweep for abandoned turns; retrying", {{"error", e.what()}});
      }
      next_sweep = std::chrono::steady_clock::now() + settings_.recovery_interval;
    }
    lock.lock();
  }
}

int TurnEngine::recover_abandoned_turns(bool include_own) {
  const int recovered =
      recovery_.sweep(include_own, [this](const std::string& u, const std::string& s,
                                          const std::string& t) { return is_live(u, s, t); });
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

bool TurnEngine::shutdown(std::chrono::steady_clock::time_point interrupt_deadline) {
  begin_shutdown();
  std::unique_lock lock(mutex_);
  if (stopped_) return true;
  const auto grace_end = shutdown_started_ + settings_.shutdown_grace;
  if (!changed_.wait_until(lock, std::min(grace_end, interrupt_deadline),
                           [this] { return active_.empty(); })) {
    shared::log::warn("interrupting turns still running at shutdown", {{"count", active_.size()}});
    for (auto& [k, turn] : active_) turn->request_stop(StopReason::kInterrupted);
    // The model stream and a running tool stop at once; what is left is saving the turn.
    if (!changed_.wait_until(lock, interrupt_deadline, [this] { return active_.empty(); })) {
      shared::log::error(
          "turns did not stop in time; their locks' leases run out and another instance marks "
          "them interrupted",
          {{"count", active_.size()}});
      return false;
    }
  }
  stopped_ = true;
  lock.unlock();
  pool_.stop();
  return true;
}

}  // namespace agent::engine
