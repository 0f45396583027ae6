// The hub subscriber cookie: an HS256 JWT signed with MERCURE_SUBSCRIBER_JWT_KEY that lets the
// signed-in user subscribe to exactly their own session topics, "/users/{user}/sessions/{session}"
// with {user} filled in and {session} left as a URI-template variable, set as the
// mercureAuthorization cookie scoped to /.well-known/mercure (HttpOnly, SameSite=Strict, Secure
// unless APP_COOKIE_SECURE=0). The UI renews it at half its lifetime.
#pragma once

#include <chrono>
#include <string>

namespace app {

class SubscriberCookie {
 public:
  SubscriberCookie(std::string key, std::chrono::seconds ttl, bool secure);
  bool enabled() const { return !key_.empty(); }
  std::chrono::seconds ttl() const { return ttl_; }

  // "/users/<user>/sessions/{session}"; user ids never hold characters that need escaping there
  // (see plausible_user_id).
  static std::string topic_template(const std::string& user_id);
  // "/users/<user>/sessions/" + session: the topic of one session, as the agent publishes it.
  static std::string topic_prefix(const std::string& user_id);
  std::string token(const std::string& user_id, std::chrono::system_clock::time_point now) const;
  // The whole Set-Cookie header value.
  std::string set_cookie(const std::string& user_id,
                         std::chrono::system_clock::time_point now) const;

  static constexpr const char* kName = "mercureAuthorization";

 private:
  std::string key_;
  std::chrono::seconds ttl_;
  bool secure_;
};

}  // namespace app
