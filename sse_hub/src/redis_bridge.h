// Scale-out through Redis (DESIGN §4): several hubs share their updates. A publish on any hub
// goes to Redis atomically as a stream entry (the shared history, trimmed to about
// HUB_HISTORY_SIZE) and a pub/sub message (delivery). Every hub, including the one that
// published, takes the message from its subscription and hands it to its own UpdateBus. At
// start, and after losing the connection, a hub reads the stream from its last seen entry, so it
// neither misses nor repeats an update.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>

#include "update.h"
#include "update_bus.h"

struct redisContext;

namespace hub {

struct RedisAddress {
  std::string host;
  int port = 6379;
  int database = 0;
  std::string password;
};
// redis://[:password@]host[:port][/db]; nullopt when malformed.
std::optional<RedisAddress> parse_redis_url(const std::string& url);

// A stream entry id ("1700000000000-3") as a comparable pair; nullopt when malformed.
std::optional<std::pair<std::uint64_t, std::uint64_t>> parse_stream_id(std::string_view id);

// The JSON an update travels as between hubs, and back. from_wire returns nullopt on bad input.
std::string update_to_wire(const Update& update);
std::optional<Update> update_from_wire(std::string_view text);

class RedisError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class RedisBridge {
 public:
  RedisBridge(RedisAddress address, std::string channel, std::size_t history_size,
              std::chrono::milliseconds timeout, UpdateBus& bus);
  ~RedisBridge();
  RedisBridge(const RedisBridge&) = delete;
  RedisBridge& operator=(const RedisBridge&) = delete;

  // Loads the shared history and subscribes; throws RedisError when Redis is unreachable.
  void start();
  void stop();

  // Sends an update to every hub (this one included). Throws RedisError when Redis does not
  // take it within the timeout.
  void publish(const Update& update);

  bool connected() const { return connected_.load(); }

 private:
  redisContext* connect_context() const;
  void run();
  // Reads stream entries after last_entry_ (all the recent history on first start), on a
  // connection of its own.
  void catch_up();
  void accept(const std::string& entry_id, std::string_view payload);

  RedisAddress address_;
  std::string channel_;
  std::string stream_key_;
  std::size_t history_size_;
  std::chrono::milliseconds timeout_;
  UpdateBus& bus_;

  std::mutex publish_mutex_;
  redisContext* publisher_ = nullptr;

  std::mutex subscriber_mutex_;
  redisContext* subscriber_ = nullptr;
  std::string last_entry_;  // newest stream entry handed to the bus (subscriber thread only)
  std::atomic<bool> stopping_{false};
  std::atomic<bool> connected_{false};
  std::thread thread_;
};

}  // namespace hub
