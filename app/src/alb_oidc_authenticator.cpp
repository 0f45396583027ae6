#include "alb_oidc_authenticator.h"

#include <fstream>
#include <sstream>

#include "shared/http_error.h"
#include "shared/jwt.h"
#include "shared/logging.h"

namespace app {
namespace {

constexpr const char* kHeader = "x-amzn-oidc-data";
constexpr std::size_t kMaxToken = 16 * 1024;

bool plausible_kid(const std::string& kid) {
  if (kid.empty() || kid.size() > 128) return false;
  for (char c : kid) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

bool looks_like_pem(const std::string& text) {
  return text.find("-----BEGIN") != std::string::npos;
}

[[noreturn]] void refuse(const std::string& why) {
  throw shared::http::unauthorized("invalid ALB identity: " + why);
}

nlohmann::json token_header(const std::string& token) {
  if (token.size() > kMaxToken) return nullptr;
  const auto dot = token.find('.');
  if (dot == std::string::npos) return nullptr;
  const auto text = shared::jwt::base64url_decode(token.substr(0, dot));
  if (!text) return nullptr;
  auto header = nlohmann::json::parse(*text, nullptr, false);
  return header.is_object() ? header : nullptr;
}

std::string string_field(const nlohmann::json& object, const char* name) {
  const auto it = object.find(name);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

std::string alb_token_kid(const std::string& token) {
  const auto header = token_header(token);
  if (header.is_null()) return {};
  const std::string kid = string_field(header, "kid");
  return plausible_kid(kid) ? kid : std::string();
}

AlbOidcAuthenticator::AlbOidcAuthenticator(Options options)
    : options_(std::move(options)),
      pool_(options_.keys_url.empty()
                ? nullptr
                : std::make_unique<BlockingPool>(options_.fetch_threads, options_.fetch_queue)) {}

AlbOidcAuthenticator::~AlbOidcAuthenticator() { pool_.reset(); }

std::string AlbOidcAuthenticator::authenticate(const Request& req) {
  const std::size_t copies = req.header_count(kHeader);
  if (copies == 0) throw shared::http::unauthorized("not signed in (no ALB identity)");
  if (copies > 1) refuse("more than one identity header");
  return user_of(req.header(kHeader));
}

bool AlbOidcAuthenticator::prepare(const Request& req, std::function<void()> ready) {
  if (!pool_ || req.header_count(kHeader) != 1) return false;
  const std::string kid = alb_token_kid(req.header(kHeader));
  if (kid.empty() || lookup(kid, nullptr) != Lookup::kUnknown) return false;
  std::lock_guard lock(mutex_);
  if (auto it = fetching_.find(kid); it != fetching_.end()) {
    it->second.push_back(std::move(ready));
    return true;
  }
  // The fetch's log lines carry the id of the request that started it.
  const bool queued = pool_->try_run([this, kid, request_id = req.request_id] {
    shared::log::RequestScope scope(request_id);
    fetch(kid);
  });
  if (!queued) {
    // Too many fetches under way: this request is refused (unknown key) rather than waiting.
    shared::log::warn("ALB key fetch refused: too many under way", {{"kid", kid}});
    return false;
  }
  ++fetches_started_;
  fetching_[kid].push_back(std::move(ready));
  return true;
}

std::size_t AlbOidcAuthenticator::fetches_started() const {
  std::lock_guard lock(mutex_);
  return fetches_started_;
}

std::string AlbOidcAuthenticator::user_of(const std::string& token) {
  if (token.size() > kMaxToken) refuse("token too large");
  const auto header = token_header(token);
  if (header.is_null()) refuse("malformed header");
  // A non-string alg (a number, an object) is a forged header like any other: 401, not a 500.
  if (string_field(header, "alg") != "ES256") refuse("algorithm must be ES256");
  if (string_field(header, "signer") != options_.signer_arn || options_.signer_arn.empty())
    refuse("unexpected signer");
  const auto exp = header.find("exp");
  if (exp == header.end() || !exp->is_number()) refuse("no expiry");
  const double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  if (now > exp->get<double>() + static_cast<double>(options_.leeway.count())) refuse("expired");
  const std::string kid = string_field(header, "kid");
  if (!plausible_kid(kid)) refuse("bad key id");

  std::string pem;
  if (lookup(kid, &pem) != Lookup::kFound) refuse("unknown key id");
  nlohmann::json claims;
  try {
    shared::jwt::VerifyOptions verify_options;
    verify_options.leeway = options_.leeway;
    claims = shared::jwt::verify(
        token, {shared::jwt::Key{shared::jwt::Algorithm::kES256, pem, kid}}, verify_options);
  } catch (const shared::jwt::JwtError& e) {
    refuse(e.reason());
  }
  const std::string sub = string_field(claims, "sub");
  if (!plausible_user_id(sub)) refuse("no usable sub");
  return sub;
}

AlbOidcAuthenticator::Lookup AlbOidcAuthenticator::lookup(const std::string& kid,
                                                          std::string* pem) {
  {
    std::lock_guard lock(mutex_);
    if (auto it = pem_by_kid_.find(kid); it != pem_by_kid_.end()) {
      if (pem) *pem = it->second;
      return Lookup::kFound;
    }
    if (auto it = missing_until_.find(kid); it != missing_until_.end()) {
      if (std::chrono::steady_clock::now() < it->second) return Lookup::kMissing;
      missing_until_.erase(it);
    }
  }
  if (!options_.keys_dir.empty()) {
    // A small local file: read on the loop, like the token file.
    std::ifstream in(options_.keys_dir + "/" + kid + ".pem");
    if (in) {
      std::stringstream text;
      text << in.rdbuf();
      if (looks_like_pem(text.str()) && text.str().size() < kMaxToken) {
        remember_found(kid, text.str());
        if (pem) *pem = text.str();
        return Lookup::kFound;
      }
    }
  }
  if (!options_.keys_url.empty()) return Lookup::kUnknown;
  remember_missing(kid);
  return Lookup::kMissing;
}

void AlbOidcAuthenticator::fetch(const std::string& kid) {
  std::optional<std::string> pem;
  shared::http::ClientRequest request;
  request.url = options_.keys_url + "/" + kid;
  request.connect_timeout = options_.fetch_timeout;
  request.timeout = options_.fetch_timeout;
  try {
    const auto response = client_.send(request);
    if (response.status == 200 && looks_like_pem(response.body) &&
        response.body.size() < kMaxToken) {
      pem = response.body;
    } else {
      shared::log::warn("ALB public key not found", {{"kid", kid}, {"status", response.status}});
    }
  } catch (const shared::http::TransportError& e) {
    shared::log::warn("ALB public key fetch failed", {{"kid", kid}, {"error", e.what()}});
  }
  if (pem) {
    remember_found(kid, *pem);
  } else {
    remember_missing(kid);
  }
  std::vector<std::function<void()>> waiting;
  {
    std::lock_guard lock(mutex_);
    if (auto it = fetching_.find(kid); it != fetching_.end()) {
      waiting = std::move(it->second);
      fetching_.erase(it);
    }
  }
  for (auto& ready : waiting) ready();
}

void AlbOidcAuthenticator::remember_missing(const std::string& kid) {
  std::lock_guard lock(mutex_);
  const auto now = std::chrono::steady_clock::now();
  if (missing_until_.size() >= options_.key_cache && !missing_until_.contains(kid)) {
    std::erase_if(missing_until_, [now](const auto& entry) { return entry.second <= now; });
    if (missing_until_.size() >= options_.key_cache) {
      auto soonest = missing_until_.begin();
      for (auto it = missing_until_.begin(); it != missing_until_.end(); ++it)
        if (it->second < soonest->second) soonest = it;
      missing_until_.erase(soonest);
    }
  }
  missing_until_[kid] = now + options_.missing_memory;
}

void AlbOidcAuthenticator::remember_found(const std::string& kid, const std::string& pem) {
  std::lock_guard lock(mutex_);
  missing_until_.erase(kid);
  if (pem_by_kid_.contains(kid)) return;
  while (pem_by_kid_.size() >= options_.key_cache && !pem_order_.empty()) {
    pem_by_kid_.erase(pem_order_.front());
    pem_order_.pop_front();
  }
  pem_by_kid_[kid] = pem;
  pem_order_.push_back(kid);
}

}  // namespace app
