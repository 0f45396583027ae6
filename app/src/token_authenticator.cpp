#include "token_authenticator.h"

#include <openssl/sha.h>

#include <fstream>
#include <sstream>

#include "shared/config.h"
#include "shared/http_error.h"
#include "shared/logging.h"

namespace app {
namespace {

std::string sha256(const std::string& text) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  return std::string(reinterpret_cast<const char*>(digest), sizeof digest);
}

std::map<std::string, std::string> parse_token_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw shared::ConfigError("APP_TOKEN_FILE", "cannot read " + path);
  std::map<std::string, std::string> users;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const auto first = line.find_first_not_of(" \t");
    if (first == std::string::npos || line[first] == '#') continue;
    std::istringstream fields(line);
    std::string user, token, extra;
    fields >> user >> token;
    if (token.empty() || (fields >> extra))
      throw shared::ConfigError("APP_TOKEN_FILE", path + ":" + std::to_string(number) +
                                                      ": expected \"<user_id> <token>\"");
    if (!plausible_user_id(user))
      throw shared::ConfigError("APP_TOKEN_FILE",
                                path + ":" + std::to_string(number) + ": bad user id");
    if (token.size() < TokenAuthenticator::kMinTokenLength)
      throw shared::ConfigError("APP_TOKEN_FILE",
                                path + ":" + std::to_string(number) + ": token shorter than " +
                                    std::to_string(TokenAuthenticator::kMinTokenLength) +
                                    " characters");
    users[sha256(token)] = user;
  }
  if (users.empty()) throw shared::ConfigError("APP_TOKEN_FILE", path + " lists no tokens");
  return users;
}

}  // namespace

TokenAuthenticator::TokenAuthenticator(std::string path) : path_(std::move(path)) { load(); }

void TokenAuthenticator::load() {
  std::error_code ec;
  const auto mtime = std::filesystem::last_write_time(path_, ec);
  user_by_digest_ = parse_token_file(path_);
  loaded_mtime_ = mtime;
}

void TokenAuthenticator::reload_if_changed() {
  const auto now = std::chrono::steady_clock::now();
  if (now - last_check_ < std::chrono::seconds(1)) return;
  last_check_ = now;
  std::error_code ec;
  const auto mtime = std::filesystem::last_write_time(path_, ec);
  if (ec || mtime == loaded_mtime_) return;
  try {
    load();
    shared::log::info("token file reloaded", {{"users", user_by_digest_.size()}});
  } catch (const std::exception& e) {
    // Keep serving with the tokens we have rather than locking everybody out.
    shared::log::warn("token file reload failed; keeping the previous tokens",
                      {{"error", e.what()}});
    loaded_mtime_ = mtime;
  }
}

std::string TokenAuthenticator::authenticate(const Request& req) {
  if (req.header_count("Authorization") != 1)
    throw shared::http::unauthorized("a bearer token is required");
  const std::string value = req.header("Authorization");
  constexpr std::string_view kScheme = "bearer ";
  if (value.size() <= kScheme.size())
    throw shared::http::unauthorized("a bearer token is required");
  for (std::size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(value[i])) != kScheme[i])
      throw shared::http::unauthorized("a bearer token is required");
  }
  const std::string token = value.substr(kScheme.size());
  const std::string digest = sha256(token);
  std::lock_guard lock(mutex_);
  reload_if_changed();
  const auto it = user_by_digest_.find(digest);
  if (it == user_by_digest_.end()) throw shared::http::unauthorized("unknown token");
  return it->second;
}

}  // namespace app
