#include "subscriber_cookie.h"

#include <nlohmann/json.hpp>

#include "shared/jwt.h"

namespace app {

SubscriberCookie::SubscriberCookie(std::string key, std::chrono::seconds ttl, bool secure)
    : key_(std::move(key)), ttl_(ttl), secure_(secure) {}

std::string SubscriberCookie::topic_prefix(const std::string& user_id) {
  return "/users/" + user_id + "/sessions/";
}

std::string SubscriberCookie::topic_template(const std::string& user_id) {
  return topic_prefix(user_id) + "{session}";
}

std::string SubscriberCookie::token(const std::string& user_id,
                                    std::chrono::system_clock::time_point now) const {
  const auto exp =
      std::chrono::duration_cast<std::chrono::seconds>((now + ttl_).time_since_epoch()).count();
  const nlohmann::json claims = {{"mercure", {{"subscribe", {topic_template(user_id)}}}},
                                 {"exp", exp}};
  return shared::jwt::sign(claims, shared::jwt::Key{shared::jwt::Algorithm::kHS256, key_, ""});
}

std::string SubscriberCookie::set_cookie(const std::string& user_id,
                                         std::chrono::system_clock::time_point now) const {
  std::string cookie = std::string(kName) + "=" + token(user_id, now) +
                       "; Path=/.well-known/mercure; Max-Age=" + std::to_string(ttl_.count()) +
                       "; HttpOnly; SameSite=Strict";
  if (secure_) cookie += "; Secure";
  return cookie;
}

}  // namespace app
