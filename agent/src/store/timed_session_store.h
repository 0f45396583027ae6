// A SessionStore decorator that records each operation's latency in
// agent_store_latency_seconds{operation} and failures in agent_store_errors_total{operation},
// whatever the store behind it. Every operation's error counter exists from the start (at 0), so
// that a dashboard or alert sees the series before the first failure.
#pragma once

#include <memory>

#include "shared/metrics.h"
#include "store/session_store.h"

namespace agent::store {

class TimedSessionStore : public SessionStore {
  template <typename F>
  // Defined before the overrides because they deduce its return type.
  auto timed(const char* operation, F&& f) {
    const auto started = std::chrono::steady_clock::now();
    auto observe = [&] {
      metrics_
          .histogram("agent_store_latency_seconds", "Store operation latency",
                     shared::latency_buckets(), {{"operation", operation}})
          .observe(
              std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    };
    try {
      auto result = f();
      observe();
      return result;
    } catch (const BadCursor&) {
      observe();
      throw;
    } catch (...) {
      observe();
      metrics_
          .counter("agent_store_errors_total", "Store operations that failed",
                   {{"operation", operation}})
          .inc();
      throw;
    }
  }

 public:
  TimedSessionStore(std::unique_ptr<SessionStore> inner, shared::MetricsRegistry& metrics)
      : inner_(std::move(inner)), metrics_(metrics) {
    for (const char* operation :
         {"create_session", "get_session", "list_sessions", "rename_session", "delete_session",
          "list_messages", "recent_messages", "append_message", "update_message",
          "acquire_turn_lock", "renew_turn_lock", "release_turn_lock", "abandoned_turns",
          "claim_turn_lock"})
      metrics_.counter("agent_store_errors_total", "Store operations that failed",
                       {{"operation", operation}});
  }

  Session create_session(const std::string& u, const std::string& t) override {
    return timed("create_session", [&] { return inner_->create_session(u, t); });
  }
  std::optional<Session> get_session(const std::string& u, const std::string& s) override {
    return timed("get_session", [&] { return inner_->get_session(u, s); });
  }
  Page<Session> list_sessions(const std::string& u, int limit, const std::string& c) override {
    return timed("list_sessions", [&] { return inner_->list_sessions(u, limit, c); });
  }
  std::optional<Session> rename_session(const std::string& u, const std::string& s,
                                        const std::string& t) override {
    return timed("rename_session", [&] { return inner_->rename_session(u, s, t); });
  }
  bool delete_session(const std::string& u, const std::string& s) override {
    return timed("delete_session", [&] { return inner_->delete_session(u, s); });
  }
  Page<StoredMessage> list_messages(const std::string& u, const std::string& s, int limit,
                                    const std::string& c) override {
    return timed("list_messages", [&] { return inner_->list_messages(u, s, limit, c); });
  }
  std::vector<StoredMessage> recent_messages(const std::string& u, const std::string& s, int limit,
                                             std::int64_t before) override {
    return timed("recent_messages", [&] { return inner_->recent_messages(u, s, limit, before); });
  }
  std::optional<StoredMessage> append_message(const std::string& u, const std::string& s,
                                              StoredMessage m) override {
    return timed("append_message", [&] { return inner_->append_message(u, s, std::move(m)); });
  }
  bool update_message(const std::string& u, const std::string& s, const StoredMessage& m) override {
    return timed("update_message", [&] { return inner_->update_message(u, s, m); });
  }
  TurnLockGrant acquire_turn_lock(const std::string& u, const std::string& s, const std::string& t,
                                  const std::string& o, std::int64_t lease) override {
    return timed("acquire_turn_lock", [&] { return inner_->acquire_turn_lock(u, s, t, o, lease); });
  }
  bool renew_turn_lock(const std::string& u, const std::string& s, const std::string& t,
                       std::int64_t lease) override {
    return timed("renew_turn_lock", [&] { return inner_->renew_turn_lock(u, s, t, lease); });
  }
  void release_turn_lock(const std::string& u, const std::string& s,
                         const std::string& t) override {
    timed("release_turn_lock", [&] {
      inner_->release_turn_lock(u, s, t);
      return 0;
    });
  }
  std::vector<AbandonedTurn> abandoned_turns(const std::string& o, std::int64_t now) override {
    return timed("abandoned_turns", [&] { return inner_->abandoned_turns(o, now); });
  }
  bool claim_turn_lock(const AbandonedTurn& seen, const std::string& claimer,
                       std::int64_t lease) override {
    return timed("claim_turn_lock", [&] { return inner_->claim_turn_lock(seen, claimer, lease); });
  }
  std::string check_ready() override { return inner_->check_ready(); }

 private:
  std::unique_ptr<SessionStore> inner_;
  shared::MetricsRegistry& metrics_;
};

}  // namespace agent::store
