// Scale-out through Redis (DESIGN §4): several hubs share their updates. A publish on any hub
// goes to Redis atomically as a stream entry (the shared history, trimmed to about
// HUB_HISTORY_SIZE) and a pub/sub message (delivery), through the RedisWriter's thread and
// bounded queue. Every hub, including the one that published, takes the message from its
// subscription and hands it to its own UpdateBus. At start, and after losing the connection, a
// hub reads the stream from its last seen entry, so it neither misses nor repeats an update.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>

#include "redis_connection.h"
#include "redis_writer.h"
#include "update.h"
#include "update_bus.h"

struct redisContext;

namespace hub {

// A stream entry id ("1700000000000-3") as a comparable pair; nullopt when malformed.
std::optional<std::pair<std::uint64_t, std::uint64_t>> parse_stream_id(std::string_view id);

// The JSON an update travels as between hubs, and back. Any byte string survives the trip: an
// id, type or data that is not valid UTF-8 (which a single hub passes through untouched, as the
// reference hub does) travels base64url-encoded. from_wire returns nullopt on bad input.
std::string update_to_wire(const Update& update);
std::optional<Update> update_from_wire(std::string_view text);

class RedisBridge {
 public:
  struct Options {
    std::string channel = "mercure";           // HUB_REDIS_CHANNEL
    std::size_t history_size = 10'000;         // HUB_HISTORY_SIZE
    std::chrono::milliseconds timeout{2'000};  // HUB_REDIS_TIMEOUT
    std::size_t queue = 1'000;                 // HUB_REDIS_QUEUE
    std::size_t queue_bytes = 64 << 20;        // HUB_REDIS_QUEUE_BYTES
  };

  RedisBridge(RedisAddress address, Options options, UpdateBus& bus);
  ~RedisBridge();
  RedisBridge(const RedisBridge&) = delete;
  RedisBridge& operator=(const RedisBridge&) = delete;

  // Connects, loads the shared history and subscribes; throws RedisError when Redis is
  // unreachable.
  void start();
  void stop();

  // Queues an update for every hub (this one included); `done` (may be empty) learns on the
  // writer's thread whether Redis took it. False at once when the queue is full or Redis is
  // known to be down. Never blocks.
  bool publish(const Update& update, RedisWriter::Done done);

  bool connected() const { return connected_.load(); }

 private:
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
  RedisWriter writer_;

  std::mutex subscriber_mutex_;
  redisContext* subscriber_ = nullptr;
  std::string last_entry_;  // newest stream entry handed to the bus (subscriber thread only)
  std::atomic<bool> stopping_{false};
  std::atomic<bool> connected_{false};
  std::thread thread_;
};

}  // namespace hub
