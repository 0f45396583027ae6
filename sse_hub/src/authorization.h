// Who may publish and subscribe: finds the JWT of a request (Authorization: Bearer, then the
// `authorization` query parameter, then the cookie, which a POST may only use from an allowed
// origin), verifies it and reads the `mercure` claim.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <optional>
#include <string>
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
  std::optional<std::string> query_token;          // the `authorization` query parameter
  std::string cookie_header;                       // Cookie headers joined with "; "
  std::string origin;
  std::string referer;
  bool is_post = false;
};

struct AuthorizationResult {
  std::optional<MercureClaims> claims;  // nullopt and no error: no token (anonymous)
  std::string error;                    // non-empty: refuse with 401
  bool ok() const { return error.empty(); }
};

// The value of one cookie from a Cookie header, nullopt when absent.
std::optional<std::string> cookie_value(std::string_view cookie_header, std::string_view name);
// scheme://host[:port] of a URL, empty when it has none.
std::string origin_of(std::string_view url);
// Reads the `mercure` claim; throws std::invalid_argument when it has the wrong shape.
MercureClaims read_mercure_claims(const nlohmann::json& claims);

class Authorizer {
 public:
  Authorizer(std::vector<shared::jwt::Key> keys, std::string cookie_name,
             std::vector<std::string> publish_origins, std::chrono::seconds leeway)
      : keys_(std::move(keys)),
        cookie_name_(std::move(cookie_name)),
        publish_origins_(std::move(publish_origins)),
        leeway_(leeway) {}

  AuthorizationResult authorize(const AuthorizationInput& input) const;
  bool has_keys() const { return !keys_.empty(); }

 private:
  AuthorizationResult verify(const std::string& token) const;

  std::vector<shared::jwt::Key> keys_;
  std::string cookie_name_;
  std::vector<std::string> publish_origins_;
  std::chrono::seconds leeway_;
};

}  // namespace hub
