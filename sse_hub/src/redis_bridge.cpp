#include "redis_bridge.h"

#include <hiredis/hiredis.h>
#include <sys/socket.h>

#include <charconv>
#include <memory>
#include <nlohmann/json.hpp>

#include "protocol_string.h"
#include "shared/jwt.h"
#include "shared/logging.h"

namespace hub {
namespace {

constexpr std::chrono::milliseconds kReconnectDelay{500};

bool newer(const std::string& a, const std::string& b) {
  auto pa = parse_stream_id(a);
  auto pb = parse_stream_id(b);
  if (!pa) return false;
  if (!pb) return true;
  return *pa > *pb;
}

// A string field as JSON: itself when it is UTF-8, else base64url under "<name>_b64".
void put_bytes(nlohmann::json& j, const char* name, const std::string& value) {
  if (is_valid_utf8(value)) {
    j[name] = value;
  } else {
    j[std::string(name) + "_b64"] = shared::jwt::base64url_encode(value);
  }
}

std::optional<std::string> get_bytes(const nlohmann::json& j, const char* name) {
  if (auto it = j.find(std::string(name) + "_b64"); it != j.end()) {
    if (!it->is_string()) return std::nullopt;
    return shared::jwt::base64url_decode(it->get<std::string>());
  }
  auto it = j.find(name);
  if (it == j.end()) return std::string();
  if (!it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

}  // namespace

std::optional<std::pair<std::uint64_t, std::uint64_t>> parse_stream_id(std::string_view id) {
  const auto dash = id.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  std::uint64_t ms = 0;
  std::uint64_t seq = 0;
  auto [p1, e1] = std::from_chars(id.data(), id.data() + dash, ms);
  auto [p2, e2] = std::from_chars(id.data() + dash + 1, id.data() + id.size(), seq);
  if (e1 != std::errc() || e2 != std::errc() || p1 != id.data() + dash ||
      p2 != id.data() + id.size()) {
    return std::nullopt;
  }
  return std::make_pair(ms, seq);
}

std::string update_to_wire(const Update& update) {
  nlohmann::json j = {
      {"topics", update.topics}, {"retry", update.retry}, {"private", update.is_private}};
  put_bytes(j, "id", update.id);
  put_bytes(j, "type", update.type);
  put_bytes(j, "data", update.data);
  // Topics are checked to be UTF-8 before they get here; replace keeps the dump from throwing.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::optional<Update> update_from_wire(std::string_view text) {
  const auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  try {
    Update u;
    auto id = get_bytes(j, "id");
    auto type = get_bytes(j, "type");
    auto data = get_bytes(j, "data");
    if (!id || !type || !data || id->empty()) return std::nullopt;
    u.id = std::move(*id);
    u.type = std::move(*type);
    u.data = std::move(*data);
    u.topics = j.at("topics").get<std::vector<std::string>>();
    u.retry = j.value("retry", std::uint64_t{0});
    u.is_private = j.value("private", false);
    if (u.topics.empty()) return std::nullopt;
    return u;
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

RedisBridge::RedisBridge(RedisAddress address, Options options, UpdateBus& bus)
    : address_(std::move(address)),
      channel_(std::move(options.channel)),
      stream_key_(channel_ + ":history"),
      history_size_(std::max<std::size_t>(options.history_size, 1)),
      timeout_(options.timeout),
      bus_(bus),
      writer_(RedisWriter::Options{address_, stream_key_, channel_, history_size_, timeout_,
                                   options.queue, options.queue_bytes}) {}

RedisBridge::~RedisBridge() { stop(); }

void RedisBridge::start() {
  writer_.start();
  // The first catch-up happens here, before the hub serves, so that a new hub can replay what
  // the others published before it started.
  catch_up();
  thread_ = std::thread([this] { run(); });
}

void RedisBridge::stop() {
  writer_.stop();
  if (stopping_.exchange(true)) return;
  {
    std::lock_guard lock(subscriber_mutex_);
    // Unblocks the subscriber thread's read.
    if (subscriber_ != nullptr) ::shutdown(subscriber_->fd, SHUT_RDWR);
  }
  if (thread_.joinable()) thread_.join();
}

bool RedisBridge::publish(const Update& update, RedisWriter::Done done) {
  return writer_.submit(update_to_wire(update), std::move(done));
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
  const RedisConnection connection = connect_redis(address_, timeout_);
  redisContext* context = connection.get();
  RedisReply reply;
  if (last_entry_.empty()) {
    const std::string count = std::to_string(history_size_);
    reply.reset(static_cast<redisReply*>(redisCommand(context, "XREVRANGE %b + - COUNT %s",
                                                      stream_key_.data(), stream_key_.size(),
                                                      count.c_str())));
  } else {
    const std::string from = "(" + last_entry_;
    reply.reset(
        static_cast<redisReply*>(redisCommand(context, "XRANGE %b %b +", stream_key_.data(),
                                              stream_key_.size(), from.data(), from.size())));
  }
  if (!reply || reply->type != REDIS_REPLY_ARRAY) {
    throw RedisError("reading the shared history failed: " +
                     (reply && reply->type == REDIS_REPLY_ERROR
                          ? std::string(reply->str, reply->len)
                          : std::string(context->errstr)));
  }
  const bool reversed = last_entry_.empty();
  const std::size_t n = reply->elements;
  for (std::size_t k = 0; k < n; ++k) {
    const redisReply* entry = reply->element[reversed ? n - 1 - k : k];
    if (entry->type != REDIS_REPLY_ARRAY || entry->elements != 2) continue;
    const redisReply* id = entry->element[0];
    const redisReply* fields = entry->element[1];
    if (id->type != REDIS_REPLY_STRING || fields->type != REDIS_REPLY_ARRAY || fields->elements < 2)
      continue;
    const redisReply* value = fields->element[1];
    if (value->type != REDIS_REPLY_STRING) continue;
    accept(std::string(id->str, id->len), std::string_view(value->str, value->len));
  }
}

void RedisBridge::run() {
  while (!stopping_.load()) {
    redisContext* context = nullptr;
    try {
      context = connect_redis(address_, timeout_).release();
      RedisReply subscribed(static_cast<redisReply*>(
          redisCommand(context, "SUBSCRIBE %b", channel_.data(), channel_.size())));
      if (!subscribed || subscribed->type == REDIS_REPLY_ERROR)
        throw RedisError("SUBSCRIBE failed");
      // Messages published while this hub was not subscribed are in the stream; those that come
      // both ways are told apart by their entry id.
      catch_up();
      // Subscribed: block on reads until a message comes or stop() shuts the socket down.
      set_redis_timeout(context, std::chrono::milliseconds(0));
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
        RedisReply message(static_cast<redisReply*>(raw));
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
