#include "redis_bridge.h"

#include <hiredis/hiredis.h>
#include <sys/socket.h>

#include <charconv>
#include <memory>
#include <nlohmann/json.hpp>

#include "shared/logging.h"

namespace hub {
namespace {

// Publishes atomically: the stream entry (history) and the pub/sub message (delivery), the
// message prefixed with the entry id so that subscribers can order and de-duplicate.
constexpr const char* kPublishScript =
    "local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', 'u', ARGV[1]) "
    "redis.call('PUBLISH', KEYS[2], id .. '\\n' .. ARGV[1]) "
    "return id";
constexpr std::chrono::milliseconds kReconnectDelay{500};

struct ReplyDeleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using Reply = std::unique_ptr<redisReply, ReplyDeleter>;

timeval to_timeval(std::chrono::milliseconds d) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(d.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((d.count() % 1000) * 1000);
  return tv;
}

bool newer(const std::string& a, const std::string& b) {
  auto pa = parse_stream_id(a);
  auto pb = parse_stream_id(b);
  if (!pa) return false;
  if (!pb) return true;
  return *pa > *pb;
}

}  // namespace

std::optional<RedisAddress> parse_redis_url(const std::string& url) {
  constexpr std::string_view kScheme = "redis://";
  if (url.rfind(kScheme, 0) != 0) return std::nullopt;
  std::string_view rest = std::string_view(url).substr(kScheme.size());
  RedisAddress a;
  if (const auto at = rest.rfind('@'); at != std::string_view::npos) {
    std::string_view auth = rest.substr(0, at);
    if (const auto colon = auth.find(':'); colon != std::string_view::npos) auth = auth.substr(colon + 1);
    a.password = std::string(auth);
    rest = rest.substr(at + 1);
  }
  if (const auto slash = rest.find('/'); slash != std::string_view::npos) {
    const std::string_view db = rest.substr(slash + 1);
    if (!db.empty()) {
      auto [p, ec] = std::from_chars(db.data(), db.data() + db.size(), a.database);
      if (ec != std::errc() || p != db.data() + db.size() || a.database < 0) return std::nullopt;
    }
    rest = rest.substr(0, slash);
  }
  if (const auto colon = rest.rfind(':'); colon != std::string_view::npos) {
    const std::string_view port = rest.substr(colon + 1);
    auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), a.port);
    if (ec != std::errc() || p != port.data() + port.size() || a.port <= 0 || a.port > 65535) return std::nullopt;
    rest = rest.substr(0, colon);
  }
  if (rest.empty()) return std::nullopt;
  a.host = std::string(rest);
  return a;
}

std::optional<std::pair<std::uint64_t, std::uint64_t>> parse_stream_id(std::string_view id) {
  const auto dash = id.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  std::uint64_t ms = 0;
  std::uint64_t seq = 0;
  auto [p1, e1] = std::from_chars(id.data(), id.data() + dash, ms);
  auto [p2, e2] = std::from_chars(id.data() + dash + 1, id.data() + id.size(), seq);
  if (e1 != std::errc() || e2 != std::errc() || p1 != id.data() + dash || p2 != id.data() + id.size()) {
    return std::nullopt;
  }
  return std::make_pair(ms, seq);
}

std::string update_to_wire(const Update& update) {
  nlohmann::json j = {{"id", update.id},         {"topics", update.topics}, {"data", update.data},
                      {"type", update.type},     {"retry", update.retry},   {"private", update.is_private}};
  return j.dump();
}

std::optional<Update> update_from_wire(std::string_view text) {
  const auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  try {
    Update u;
    u.id = j.at("id").get<std::string>();
    u.topics = j.at("topics").get<std::vector<std::string>>();
    u.data = j.value("data", "");
    u.type = j.value("type", "");
    u.retry = j.value("retry", std::uint64_t{0});
    u.is_private = j.value("private", false);
    if (u.topics.empty()) return std::nullopt;
    return u;
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

RedisBridge::RedisBridge(RedisAddress address, std::string channel, std::size_t history_size,
                         std::chrono::milliseconds timeout, UpdateBus& bus)
    : address_(std::move(address)),
      channel_(std::move(channel)),
      stream_key_(channel_ + ":history"),
      history_size_(std::max<std::size_t>(history_size, 1)),
      timeout_(timeout),
      bus_(bus) {}

RedisBridge::~RedisBridge() {
  stop();
  if (publisher_ != nullptr) redisFree(publisher_);
}

redisContext* RedisBridge::connect_context() const {
  redisContext* c = redisConnectWithTimeout(address_.host.c_str(), address_.port, to_timeval(timeout_));
  if (c == nullptr || c->err != 0) {
    const std::string why = c != nullptr ? c->errstr : "out of memory";
    if (c != nullptr) redisFree(c);
    throw RedisError("cannot connect to Redis at " + address_.host + ":" + std::to_string(address_.port) + ": " + why);
  }
  redisSetTimeout(c, to_timeval(timeout_));
  auto command = [&](const char* what, Reply reply) {
    if (!reply || reply->type == REDIS_REPLY_ERROR) {
      const std::string why = reply ? std::string(reply->str, reply->len) : std::string(c->errstr);
      redisFree(c);
      throw RedisError(std::string(what) + " failed: " + why);
    }
  };
  if (!address_.password.empty()) {
    command("AUTH", Reply(static_cast<redisReply*>(redisCommand(c, "AUTH %s", address_.password.c_str()))));
  }
  if (address_.database != 0) {
    command("SELECT", Reply(static_cast<redisReply*>(redisCommand(c, "SELECT %d", address_.database))));
  }
  return c;
}

void RedisBridge::start() {
  {
    std::lock_guard lock(publish_mutex_);
    publisher_ = connect_context();
  }
  // The first catch-up happens here, before the hub serves, so that a new hub can replay what
  // the others published before it started.
  catch_up();
  thread_ = std::thread([this] { run(); });
}

void RedisBridge::stop() {
  if (stopping_.exchange(true)) return;
  {
    std::lock_guard lock(subscriber_mutex_);
    // Unblocks the subscriber thread's read.
    if (subscriber_ != nullptr) ::shutdown(subscriber_->fd, SHUT_RDWR);
  }
  if (thread_.joinable()) thread_.join();
}

void RedisBridge::publish(const Update& update) {
  const std::string wire = update_to_wire(update);
  const std::string maxlen = std::to_string(history_size_);
  std::lock_guard lock(publish_mutex_);
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (publisher_ == nullptr) publisher_ = connect_context();
    Reply reply(static_cast<redisReply*>(redisCommand(publisher_, "EVAL %s 2 %b %b %b %b", kPublishScript,
                                                      stream_key_.data(), stream_key_.size(), channel_.data(),
                                                      channel_.size(), wire.data(), wire.size(), maxlen.data(),
                                                      maxlen.size())));
    if (reply && reply->type != REDIS_REPLY_ERROR) return;
    const std::string why = reply ? std::string(reply->str, reply->len) : std::string(publisher_->errstr);
    if (reply) throw RedisError("publish refused by Redis: " + why);
    // A broken connection is retried once on a fresh one.
    redisFree(publisher_);
    publisher_ = nullptr;
    if (attempt == 1) throw RedisError("publish to Redis failed: " + why);
  }
}

void RedisBridge::accept(const std::string& entry_id, std::string_view payload) {
  if (!last_entry_.empty() && !newer(entry_id, last_entry_)) return;  // seen in the catch-up
  auto update = update_from_wire(payload);
  if (!update) {
    shared::log::warn("ignored a malformed update from Redis", {{"entry", entry_id}});
    return;
  }
  last_entry_ = entry_id;
  bus_.publish(std::move(*update));
}

void RedisBridge::catch_up() {
  const std::unique_ptr<redisContext, decltype(&redisFree)> connection(connect_context(), &redisFree);
  redisContext* context = connection.get();
  Reply reply;
  if (last_entry_.empty()) {
    const std::string count = std::to_string(history_size_);
    reply.reset(static_cast<redisReply*>(redisCommand(context, "XREVRANGE %b + - COUNT %s", stream_key_.data(),
                                                      stream_key_.size(), count.c_str())));
  } else {
    const std::string from = "(" + last_entry_;
    reply.reset(static_cast<redisReply*>(
        redisCommand(context, "XRANGE %b %b +", stream_key_.data(), stream_key_.size(), from.data(), from.size())));
  }
  if (!reply || reply->type != REDIS_REPLY_ARRAY) {
    throw RedisError("reading the shared history failed: " +
                     (reply && reply->type == REDIS_REPLY_ERROR ? std::string(reply->str, reply->len)
                                                                : std::string(context->errstr)));
  }
  const bool reversed = last_entry_.empty();
  const std::size_t n = reply->elements;
  for (std::size_t k = 0; k < n; ++k) {
    const redisReply* entry = reply->element[reversed ? n - 1 - k : k];
    if (entry->type != REDIS_REPLY_ARRAY || entry->elements != 2) continue;
    const redisReply* id = entry->element[0];
    const redisReply* fields = entry->element[1];
    if (id->type != REDIS_REPLY_STRING || fields->type != REDIS_REPLY_ARRAY || fields->elements < 2) continue;
    const redisReply* value = fields->element[1];
    if (value->type != REDIS_REPLY_STRING) continue;
    accept(std::string(id->str, id->len), std::string_view(value->str, value->len));
  }
}

void RedisBridge::run() {
  while (!stopping_.load()) {
    redisContext* context = nullptr;
    try {
      context = connect_context();
      Reply subscribed(static_cast<redisReply*>(redisCommand(context, "SUBSCRIBE %b", channel_.data(), channel_.size())));
      if (!subscribed || subscribed->type == REDIS_REPLY_ERROR) throw RedisError("SUBSCRIBE failed");
      // Messages published while this hub was not subscribed are in the stream; those that come
      // both ways are told apart by their entry id.
      catch_up();
      // Subscribed: block on reads until a message comes or stop() shuts the socket down.
      redisSetTimeout(context, timeval{0, 0});
      {
        std::lock_guard lock(subscriber_mutex_);
        subscriber_ = context;
      }
      if (stopping_.load()) ::shutdown(context->fd, SHUT_RDWR);
      connected_ = true;
      shared::log::info("subscribed to Redis", {{"channel", channel_}});
      for (;;) {
        void* raw = nullptr;
        if (redisGetReply(context, &raw) != REDIS_OK) break;
        Reply message(static_cast<redisReply*>(raw));
        if (!message || message->type != REDIS_REPLY_ARRAY || message->elements != 3) continue;
        const redisReply* payload = message->element[2];
        if (payload->type != REDIS_REPLY_STRING) continue;
        const std::string_view text(payload->str, payload->len);
        const auto newline = text.find('\n');
        if (newline == std::string_view::npos) continue;
        accept(std::string(text.substr(0, newline)), text.substr(newline + 1));
      }
    } catch (const RedisError& e) {
      if (!stopping_.load()) shared::log::warn("Redis subscription failed", {{"error", e.what()}});
    }
    connected_ = false;
    {
      std::lock_guard lock(subscriber_mutex_);
      subscriber_ = nullptr;
    }
    if (context != nullptr) redisFree(context);
    if (!stopping_.load()) {
      shared::log::warn("Redis connection lost: reconnecting");
      std::this_thread::sleep_for(kReconnectDelay);
    }
  }
}

}  // namespace hub
