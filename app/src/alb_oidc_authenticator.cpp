#include "alb_oidc_authenticator.h"

#include <fstream>
#include <sstream>

#include "shared/http_error.h"
#include "shared/jwt.h"
#include "shared/logging.h"

namespace app {
namespace {

constexpr const char* kHeader = "x-amzn-oidc-data";
constexpr auto kMissingKeyMemory = std::chrono::seconds(60);

bool plausible_kid(const std::string& kid) {
  if (kid.empty() || kid.size() > 128) return false;
  for (char c : kid) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

bool looks_like_pem(const std::string& text) { return text.find("-----BEGIN") != std::string::npos; }

[[noreturn]] void refuse(const std::string& why) { throw shared::http::unauthorized("invalid ALB identity: " + why); }

}  // namespace

AlbOidcAuthenticator::AlbOidcAuthenticator(Options options) : options_(std::move(options)) {}

std::string AlbOidcAuthenticator::authenticate(const httplib::Request& req) {
  const std::size_t copies = req.get_header_value_count(kHeader);
  if (copies == 0) throw shared::http::unauthorized("not signed in (no ALB identity)");
  if (copies > 1) refuse("more than one identity header");
  return user_of(req.get_header_value(kHeader));
}

std::string AlbOidcAuthenticator::user_of(const std::string& token) {
  if (token.size() > 16 * 1024) refuse("token too large");
  const auto dot = token.find('.');
  if (dot == std::string::npos) refuse("malformed token");
  const auto header_text = shared::jwt::base64url_decode(token.substr(0, dot));
  if (!header_text) refuse("malformed header");
  const auto header = nlohmann::json::parse(*header_text, nullptr, false);
  if (!header.is_object()) refuse("malformed header");

  if (header.value("alg", "") != "ES256") refuse("algorithm must be ES256");
  const auto signer = header.find("signer");
  if (signer == header.end() || !signer->is_string() || signer->get<std::string>() != options_.signer_arn)
    refuse("unexpected signer");
  const auto exp = header.find("exp");
  if (exp == header.end() || !exp->is_number()) refuse("no expiry");
  const double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  if (now > exp->get<double>() + static_cast<double>(options_.leeway.count())) refuse("expired");
  const auto kid_it = header.find("kid");
  if (kid_it == header.end() || !kid_it->is_string() || !plausible_kid(kid_it->get<std::string>()))
    refuse("bad key id");
  const std::string kid = *kid_it;

  const auto pem = public_key(kid);
  if (!pem) refuse("unknown key id");
  nlohmann::json claims;
  try {
    shared::jwt::VerifyOptions verify_options;
    verify_options.leeway = options_.leeway;
    claims = shared::jwt::verify(token, {shared::jwt::Key{shared::jwt::Algorithm::kES256, *pem, kid}}, verify_options);
  } catch (const shared::jwt::JwtError& e) {
    refuse(e.reason());
  }
  const auto sub = claims.find("sub");
  if (sub == claims.end() || !sub->is_string() || !plausible_user_id(sub->get<std::string>()))
    refuse("no usable sub");
  return *sub;
}

std::optional<std::string> AlbOidcAuthenticator::public_key(const std::string& kid) {
  {
    std::lock_guard lock(mutex_);
    if (auto it = pem_by_kid_.find(kid); it != pem_by_kid_.end()) return it->second;
    if (auto it = missing_until_.find(kid); it != missing_until_.end()) {
      if (std::chrono::steady_clock::now() < it->second) return std::nullopt;
      missing_until_.erase(it);
    }
  }
  std::optional<std::string> pem;
  if (!options_.keys_dir.empty()) {
    std::ifstream in(options_.keys_dir + "/" + kid + ".pem");
    if (in) {
      std::stringstream text;
      text << in.rdbuf();
      if (looks_like_pem(text.str())) pem = text.str();
    }
  }
  if (!pem && !options_.keys_url.empty()) {
    shared::http::ClientRequest request;
    request.url = options_.keys_url + "/" + kid;
    request.connect_timeout = options_.fetch_timeout;
    request.timeout = options_.fetch_timeout;
    try {
      const auto response = client_.send(request);
      if (response.status == 200 && looks_like_pem(response.body) && response.body.size() < 16 * 1024) {
        pem = response.body;
      } else {
        shared::log::warn("ALB public key not found", {{"kid", kid}, {"status", response.status}});
      }
    } catch (const shared::http::TransportError& e) {
      shared::log::warn("ALB public key fetch failed", {{"kid", kid}, {"error", e.what()}});
    }
  }
  std::lock_guard lock(mutex_);
  if (!pem) {
    if (missing_until_.size() >= options_.key_cache) missing_until_.clear();
    missing_until_[kid] = std::chrono::steady_clock::now() + kMissingKeyMemory;
    return std::nullopt;
  }
  if (pem_by_kid_.size() >= options_.key_cache) pem_by_kid_.clear();
  pem_by_kid_[kid] = *pem;
  return pem;
}

}  // namespace app
