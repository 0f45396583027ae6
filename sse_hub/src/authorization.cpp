#include "authorization.h"

#include <stdexcept>

namespace hub {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::optional<std::vector<std::string>> string_list(const nlohmann::json& mercure,
                                                    const char* name) {
  auto it = mercure.find(name);
  if (it == mercure.end() || it->is_null()) return std::nullopt;
  if (!it->is_array())
    throw std::invalid_argument(std::string("mercure.") + name + " must be an array");
  std::vector<std::string> out;
  for (const auto& v : *it) {
    if (!v.is_string())
      throw std::invalid_argument(std::string("mercure.") + name + " must hold strings");
    out.push_back(v.get<std::string>());
  }
  return out;
}

}  // namespace

std::optional<std::string> cookie_value(std::string_view header, std::string_view name) {
  std::size_t start = 0;
  while (start < header.size()) {
    const std::size_t semi = header.find(';', start);
    const std::string_view pair =
        trim(header.substr(start, semi == std::string_view::npos ? header.npos : semi - start));
    const std::size_t eq = pair.find('=');
    if (eq != std::string_view::npos && trim(pair.substr(0, eq)) == name) {
      std::string_view value = trim(pair.substr(eq + 1));
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
        value = value.substr(1, value.size() - 2);
      return std::string(value);
    }
    if (semi == std::string_view::npos) break;
    start = semi + 1;
  }
  return std::nullopt;
}

std::string origin_of(std::string_view url) {
  const std::size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos || scheme_end == 0) return "";
  const std::size_t host_end = url.find_first_of("/?#", scheme_end + 3);
  const std::string_view origin = url.substr(0, host_end);
  if (origin.size() == scheme_end + 3) return "";
  return std::string(origin);
}

MercureClaims read_mercure_claims(const nlohmann::json& claims) {
  MercureClaims out;
  if (auto exp = claims.find("exp"); exp != claims.end() && exp->is_number()) {
    out.expires_at = std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(
            std::chrono::duration<double>(exp->get<double>())));
  }
  auto mercure = claims.find("mercure");
  if (mercure == claims.end() || mercure->is_null()) return out;
  if (!mercure->is_object()) throw std::invalid_argument("the mercure claim must be an object");
  out.publish = string_list(*mercure, "publish");
  out.subscribe = string_list(*mercure, "subscribe");
  if (auto payload = mercure->find("payload"); payload != mercure->end()) out.payload = *payload;
  return out;
}

std::shared_ptr<const MercureClaims> Authorizer::remembered(const std::string& token) const {
  std::lock_guard lock(cache_mutex_);
  auto it = cache_.find(token);
  if (it == cache_.end()) return nullptr;
  if (std::chrono::system_clock::now() >= it->second.valid_until) {
    cache_.erase(it);
    return nullptr;
  }
  return it->second.claims;
}

void Authorizer::remember(const std::string& token,
                          std::shared_ptr<const MercureClaims> claims) const {
  const auto valid_until = claims->expires_at ? *claims->expires_at + leeway_
                                              : std::chrono::system_clock::time_point::max();
  std::lock_guard lock(cache_mutex_);
  if (cache_.size() >= kCacheCapacity) cache_.erase(cache_.begin());
  cache_.insert_or_assign(token, Remembered{std::move(claims), valid_until});
}

AuthorizationResult Authorizer::verify(const std::string& token) const {
  AuthorizationResult result;
  if (keys_.empty()) {
    result.error = "no JWT key is configured";
    return result;
  }
  if ((result.claims = remembered(token))) return result;
  try {
    const nlohmann::json claims = shared::jwt::verify(token, keys_, {leeway_, {}});
    result.claims = std::make_shared<const MercureClaims>(read_mercure_claims(claims));
    remember(token, result.claims);
  } catch (const shared::jwt::JwtError& e) {
    result.error = e.what();
  } catch (const std::invalid_argument& e) {
    result.error = e.what();
  }
  return result;
}

AuthorizationResult Authorizer::authorize(const AuthorizationInput& input) const {
  if (!input.authorization_headers.empty()) {
    if (input.authorization_headers.size() != 1)
      return {nullptr, "more than one Authorization header"};
    const std::string& header = input.authorization_headers.front();
    constexpr std::string_view kBearer = "Bearer ";
    if (header.size() <= kBearer.size() || header.compare(0, kBearer.size(), kBearer) != 0) {
      return {nullptr, "the Authorization header is not a Bearer token"};
    }
    return verify(header.substr(kBearer.size()));
  }
  if (!input.query_tokens.empty()) {
    // As the reference hub: the parameter given twice is ambiguous, not "the first one wins".
    if (input.query_tokens.size() != 1)
      return {nullptr, "more than one authorization query parameter"};
    return verify(input.query_tokens.front());
  }
  auto cookie = cookie_value(input.cookie_header, cookie_name_);
  if (!cookie) return {};
  // Cross-site request forgery cannot happen with safe methods; a POST must come from an allowed
  // origin (its Origin header, or failing that its Referer).
  if (input.is_post) {
    std::string origin = input.origin.empty() ? origin_of(input.referer) : input.origin;
    if (origin.empty()) return {nullptr, "a cookie-authorized POST needs an Origin or Referer"};
    bool allowed = false;
    for (const auto& o : publish_origins_) allowed = allowed || o == "*" || o == origin;
    if (!allowed) return {nullptr, "origin " + origin + " may not publish with the cookie"};
  }
  return verify(*cookie);
}

}  // namespace hub
