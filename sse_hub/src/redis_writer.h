// The one writer of this hub's updates to Redis (scale-out): a thread of its own with a bounded
// queue, so that a slow, hung or lost Redis never blocks an event loop. Each update goes out as
// the publish script (the stream entry for history and the pub/sub message for delivery, in one
// atomic step); what is queued is pipelined. The submitter learns the outcome through its
// callback, on the writer's thread: written, or not (Redis did not answer within the timeout of
// the submit, or the queue was failed because Redis went down).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "redis_connection.h"

namespace hub {

class RedisWriter {
 public:
  using Done = std::function<void(bool written)>;

  struct Options {
    RedisAddress address;
    std::string stream_key;              // <HUB_REDIS_CHANNEL>:history
    std::string channel;                 // HUB_REDIS_CHANNEL
    std::size_t stream_length = 10'000;  // approximate MAXLEN of the stream (HUB_HISTORY_SIZE)
    std::chrono::milliseconds timeout{2'000};  // HUB_REDIS_TIMEOUT: submit to acknowledgement
    std::size_t max_queued = 1'000;            // HUB_REDIS_QUEUE
    std::size_t max_queued_bytes = 64 << 20;   // HUB_REDIS_QUEUE_BYTES
  };

  explicit RedisWriter(Options options);
  ~RedisWriter();
  RedisWriter(const RedisWriter&) = delete;
  RedisWriter& operator=(const RedisWriter&) = delete;

  // Connects (RedisError when Redis is unreachable) and starts the thread.
  void start();
  // Fails whatever is still queued and joins the thread. More than once is fine.
  void stop();

  // Queues one update (its wire text). Returns false at once, without calling `done`, when the
  // queue is full, Redis is known to be down, or the writer is stopping. `done` may be empty.
  bool submit(std::string wire, Done done);

  bool down() const { return down_.load(); }

 private:
  struct Job {
    std::string wire;
    Done done;
    std::chrono::steady_clock::time_point deadline;
  };

  void run();
  void write(std::vector<Job>& batch);
  // Reconnects and pings; clears down_ when Redis answers.
  void probe();
  // Marks Redis as down and fails every queued job.
  void mark_down(const std::string& why);
  void adopt(RedisConnection connection);
  void drop_connection();
  static void finish(std::vector<Job>& jobs, bool written);

  Options options_;
  RedisConnection connection_;  // writer thread only (and start())

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Job> queue_;
  std::size_t queued_bytes_ = 0;
  bool stopping_ = false;
  int active_fd_ = -1;  // the connection's socket, for stop() to unblock a command in progress
  std::atomic<bool> down_{false};
  std::thread thread_;
};

}  // namespace hub
