// Who may publish and subscribe: finds the JWT of a request (Authorization: Bearer, then the
// `authorization` query parameter, then the cookie, which a POST may only use from an allowed
// origin), verifies it and reads the `mercure` claim.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "shared/jwt.h"

namespace hub {

struct MercureClaims {
  std::optional<std::vector<std::string>> publish;    // mercure.publish (absent: may not publish)
  std::optional<std::vector<std::string>> subscribe;  // mercure.subscribe (absent: public only)
  nlohmann::json payload;                             // mercure.payload, null when absent
  std::optional<std::chrono::system_clock::time_point> expires_at;  // exp
};

// What the authorizer reads from a request; filled by the HTTP layer.
struct AuthorizationInput {
  std::vector<std::string> authorization_headers;  // every Authorization header
  std::vector<std::string> query_tokens;           // every `authorization` query parameter
  std::string cookie_header;                       // Cookie headers joined with "; "
  std::string origin;
  std::string referer;
  bool is_post = false;
};

struct AuthorizationResult {
  std::shared_ptr<const MercureClaims> claims;  // null and no error: no token (anonymous)
  std::string error;                            // non-empty: refuse with 401
  bool ok() const { return error.empty(); }
};

// The value of one cookie from a Cookie header, nullopt when absent.
std::optional<std::string> cookie_value(std::string_view cookie_header, std::string_view name);
// scheme://host[:port] of a URL, empty when it has none.
std::string origin_of(std::string_view url);
// Reads the `mercure` claim; throws std::invalid_argument when it has the wrong shape.
MercureClaims read_mercure_claims(const nlohmann::json& claims);

// Verifies tokens and remembers the ones that verified. Publishers (the agent) and reconnecting
// subscribers send the same token again and again; a remembered token skips the signature check,
// the base64 and the JSON parsing of its claims until it expires. Only tokens that verified are
// kept, each no longer than its `exp` plus the leeway, and at most kCacheCapacity of them.
class Authorizer {
 public:
  static constexpr std::size_t kCacheCapacity = 4096;

  Authorizer(std::vector<shared::jwt::Key> keys, std::string cookie_name,
             std::vector<std::string> publish_origins, std::chrono::seconds leeway)
      : keys_(std::move(keys)),
        cookie_name_(std::move(cookie_name)),
        publish_origins_(std::move(publish_origins)),
        leeway_(leeway) {}

  AuthorizationResult authorize(const AuthorizationInput& input) const;
  bool has_keys() const { return !keys_.empty(); }
  std::size_t remembered_tokens() const {
    std::lock_guard lock(cache_mutex_);
    return cache_.size();
  }

 private:
  AuthorizationResult verify(const std::string& token) const;
  std::shared_ptr<const MercureClaims> remembered(const std::string& token) const;
  void remember(const std::string& token, std::shared_ptr<const MercureClaims> claims) const;

  struct Remembered {
    std::shared_ptr<const MercureClaims> claims;
    std::chrono::system_clock::time_point valid_until;
  };

  std::vector<shared::jwt::Key> keys_;
  std::string cookie_name_;
  std::vector<std::string> publish_origins_;
  std::chrono::seconds leeway_;
  mutable std::mutex cache_mutex_;
  mutable std::unordered_map<std::string, Remembered> cache_;
};

}  // namespace hub
