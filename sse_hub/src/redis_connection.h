// One blocking connection to Redis (hiredis), as the hub's Redis threads use it: the address
// from HUB_REDIS_URL, connect with AUTH and SELECT under a timeout, and replies that free
// themselves. Used only on threads of their own, never on an event loop.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

struct redisContext;
struct redisReply;

namespace hub {

struct RedisAddress {
  std::string host;
  int port = 6379;
  int database = 0;
  std::string password;
};
// redis://[:password@]host[:port][/db]; nullopt when malformed.
std::optional<RedisAddress> parse_redis_url(const std::string& url);

class RedisError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct RedisContextDeleter {
  void operator()(redisContext* c) const;
};
using RedisConnection = std::unique_ptr<redisContext, RedisContextDeleter>;

struct RedisReplyDeleter {
  void operator()(redisReply* r) const;
};
using RedisReply = std::unique_ptr<redisReply, RedisReplyDeleter>;

// Connects, authenticates and selects the database; every step and every later command on the
// connection is bounded by `timeout`. Throws RedisError.
RedisConnection connect_redis(const RedisAddress& address, std::chrono::milliseconds timeout);

// Sets the read and write timeout of a connection (zero: block).
void set_redis_timeout(redisContext* c, std::chrono::milliseconds timeout);

}  // namespace hub
