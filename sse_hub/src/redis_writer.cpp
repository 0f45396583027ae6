#include "redis_writer.h"

#include <hiredis/hiredis.h>
#include <sys/socket.h>

#include <algorithm>

#include "shared/logging.h"

namespace hub {
namespace {

// Publishes atomically: the stream entry (history) and the pub/sub message (delivery), the
// message prefixed with the entry id so that subscribers can order and de-duplicate.
constexpr const char* kPublishScript =
    "local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', 'u', ARGV[1]) "
    "redis.call('PUBLISH', KEYS[2], id .. '\\n' .. ARGV[1]) "
    "return id";
// Jobs pipelined in one round trip.
constexpr std::size_t kMaxBatch = 256;
// While Redis is down, how often the writer tries it again.
constexpr std::chrono::milliseconds kProbeInterval{500};

}  // namespace

RedisWriter::RedisWriter(Options options) : options_(std::move(options)) {}

RedisWriter::~RedisWriter() { stop(); }

void RedisWriter::start() {
  adopt(connect_redis(options_.address, options_.timeout));
  thread_ = std::thread([this] { run(); });
}

void RedisWriter::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
    // Unblocks a command (or a probe's PING) waiting on a Redis that does not answer.
    if (active_fd_ >= 0) ::shutdown(active_fd_, SHUT_RDWR);
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::vector<Job> left;
  {
    std::lock_guard lock(mutex_);
    left.assign(std::make_move_iterator(queue_.begin()), std::make_move_iterator(queue_.end()));
    queue_.clear();
    queued_bytes_ = 0;
  }
  finish(left, false);
  drop_connection();
}

bool RedisWriter::submit(std::string wire, Done done) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ || down_.load()) return false;
    if (queue_.size() >= options_.max_queued ||
        (!queue_.empty() && queued_bytes_ + wire.size() > options_.max_queued_bytes)) {
      return false;
    }
    queued_bytes_ += wire.size();
    queue_.push_back(
        Job{std::move(wire), std::move(done), std::chrono::steady_clock::now() + options_.timeout});
  }
  wake_.notify_one();
  return true;
}

void RedisWriter::run() {
  std::vector<Job> batch;
  for (;;) {
    bool probing = false;
    {
      std::unique_lock lock(mutex_);
      if (down_.load()) {
        wake_.wait_for(lock, kProbeInterval, [this] { return stopping_; });
        probing = true;
      } else {
        wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      }
      if (stopping_) return;
      if (!probing) {
        const std::size_t n = std::min(queue_.size(), kMaxBatch);
        for (std::size_t i = 0; i < n; ++i) {
          queued_bytes_ -= queue_.front().wire.size();
          batch.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
      }
    }
    if (probing) {
      probe();
    } else {
      write(batch);
      batch.clear();
    }
  }
}

void RedisWriter::write(std::vector<Job>& batch) {
  // Jobs that waited past their deadline in the queue are not sent: their publisher has been
  // told (or is about to be told) that Redis did not take them.
  const auto now = std::chrono::steady_clock::now();
  std::vector<Job> expired;
  auto live = std::stable_partition(batch.begin(), batch.end(),
                                    [&](const Job& j) { return j.deadline > now; });
  expired.assign(std::make_move_iterator(live), std::make_move_iterator(batch.end()));
  batch.erase(live, batch.end());
  finish(expired, false);
  if (batch.empty()) return;

  if (!connection_) {
    mark_down("no connection");
    finish(batch, false);
    return;
  }
  redisContext* c = connection_.get();
  const std::string maxlen = std::to_string(options_.stream_length);
  for (const Job& job : batch) {
    redisAppendCommand(c, "EVAL %s 2 %b %b %b %b", kPublishScript, options_.stream_key.data(),
                       options_.stream_key.size(), options_.channel.data(), options_.channel.size(),
                       job.wire.data(), job.wire.size(), maxlen.data(), maxlen.size());
  }
  // The oldest job's deadline bounds the whole round trip.
  const auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(batch.front().deadline - now);
  set_redis_timeout(c, std::max(left, std::chrono::milliseconds(1)));
  for (std::size_t i = 0; i < batch.size(); ++i) {
    void* raw = nullptr;
    if (redisGetReply(c, &raw) != REDIS_OK) {
      const std::string why = c->errstr;
      std::vector<Job> unanswered(
          std::make_move_iterator(batch.begin() + static_cast<std::ptrdiff_t>(i)),
          std::make_move_iterator(batch.end()));
      drop_connection();
      mark_down(why);
      finish(unanswered, false);
      return;
    }
    RedisReply reply(static_cast<redisReply*>(raw));
    const bool written = reply && reply->type != REDIS_REPLY_ERROR;
    if (!written) {
      shared::log::error(
          "Redis refused a publish",
          {{"error", reply ? std::string(reply->str, reply->len) : std::string("no reply")}});
    }
    if (batch[i].done) batch[i].done(written);
  }
}

void RedisWriter::probe() {
  try {
    RedisConnection c = connect_redis(options_.address, options_.timeout);
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
      active_fd_ = c->fd;
    }
    RedisReply pong(static_cast<redisReply*>(redisCommand(c.get(), "PING")));
    if (!pong || pong->type == REDIS_REPLY_ERROR) {
      {
        std::lock_guard lock(mutex_);
        active_fd_ = -1;
      }
      return;  // c is freed after its fd is no longer advertised to stop()
    }
    adopt(std::move(c));
    down_ = false;
    shared::log::info("Redis answers again: publishing resumes");
  } catch (const RedisError&) {
    // Still down; the next probe comes after kProbeInterval.
  }
}

void RedisWriter::mark_down(const std::string& why) {
  std::vector<Job> failed;
  {
    std::lock_guard lock(mutex_);
    if (!down_.exchange(true) && !stopping_) {
      shared::log::warn("Redis does not answer: publishes get 503 until it does", {{"error", why}});
    }
    failed.assign(std::make_move_iterator(queue_.begin()), std::make_move_iterator(queue_.end()));
    queue_.clear();
    queued_bytes_ = 0;
  }
  finish(failed, false);
}

void RedisWriter::adopt(RedisConnection connection) {
  std::lock_guard lock(mutex_);
  connection_ = std::move(connection);
  active_fd_ = connection_ ? connection_->fd : -1;
}

void RedisWriter::drop_connection() {
  RedisConnection old;
  {
    std::lock_guard lock(mutex_);
    active_fd_ = -1;
    old = std::move(connection_);
  }
  // Freed (its socket closed) only after stop() can no longer see its fd.
}

void RedisWriter::finish(std::vector<Job>& jobs, bool written) {
  for (Job& job : jobs) {
    if (job.done) job.done(written);
  }
  jobs.clear();
}

}  // namespace hub
