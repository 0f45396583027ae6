#include "redis_connection.h"

#include <hiredis/hiredis.h>

#include <charconv>
#include <string_view>

namespace hub {
namespace {

timeval to_timeval(std::chrono::milliseconds d) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(d.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((d.count() % 1000) * 1000);
  return tv;
}

}  // namespace

void RedisContextDeleter::operator()(redisContext* c) const { redisFree(c); }
void RedisReplyDeleter::operator()(redisReply* r) const { freeReplyObject(r); }

std::optional<RedisAddress> parse_redis_url(const std::string& url) {
  constexpr std::string_view kScheme = "redis://";
  if (url.rfind(kScheme, 0) != 0) return std::nullopt;
  std::string_view rest = std::string_view(url).substr(kScheme.size());
  RedisAddress a;
  if (const auto at = rest.rfind('@'); at != std::string_view::npos) {
    std::string_view auth = rest.substr(0, at);
    if (const auto colon = auth.find(':'); colon != std::string_view::npos)
      auth = auth.substr(colon + 1);
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
    if (ec != std::errc() || p != port.data() + port.size() || a.port <= 0 || a.port > 65535)
      return std::nullopt;
    rest = rest.substr(0, colon);
  }
  if (rest.empty()) return std::nullopt;
  a.host = std::string(rest);
  return a;
}

void set_redis_timeout(redisContext* c, std::chrono::milliseconds timeout) {
  redisSetTimeout(c, to_timeval(timeout));
}

RedisConnection connect_redis(const RedisAddress& address, std::chrono::milliseconds timeout) {
  RedisConnection c(
      redisConnectWithTimeout(address.host.c_str(), address.port, to_timeval(timeout)));
  if (!c || c->err != 0) {
    const std::string why = c ? c->errstr : "out of memory";
    throw RedisError("cannot connect to Redis at " + address.host + ":" +
                     std::to_string(address.port) + ": " + why);
  }
  set_redis_timeout(c.get(), timeout);
  auto command = [&](const char* what, RedisReply reply) {
    if (!reply || reply->type == REDIS_REPLY_ERROR) {
      const std::string why = reply ? std::string(reply->str, reply->len) : std::string(c->errstr);
      throw RedisError(std::string(what) + " failed: " + why);
    }
  };
  if (!address.password.empty()) {
    command("AUTH", RedisReply(static_cast<redisReply*>(
                        redisCommand(c.get(), "AUTH %s", address.password.c_str()))));
  }
  if (address.database != 0) {
    command(
        "SELECT",
        RedisReply(static_cast<redisReply*>(redisCommand(c.get(), "SELECT %d", address.database))));
  }
  return c;
}

}  // namespace hub
