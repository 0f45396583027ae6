// APP_AUTH=token: API clients send "Authorization: Bearer <token>"; APP_TOKEN_FILE lists
// "<user_id> <token>" lines ('#' comments). Only SHA-256 digests of the tokens are kept, and
// lookups are by digest so that comparison time says nothing about a token's characters. The
// file is read again when it changes, so tokens can be rotated without a restart.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>

#include "authenticator.h"

namespace app {

class TokenAuthenticator : public Authenticator {
 public:
  // Throws shared::ConfigError (APP_TOKEN_FILE) when the file cannot be read or has no token.
  explicit TokenAuthenticator(std::string path);
  std::string authenticate(const Request& req) override;
  bool bearer_based() const override { return true; }

  static constexpr std::size_t kMinTokenLength = 16;

 private:
  void load();
  void reload_if_changed();

  std::string path_;
  std::mutex mutex_;
  std::map<std::string, std::string> user_by_digest_;
  std::filesystem::file_time_type loaded_mtime_{};
  std::chrono::steady_clock::time_point last_check_{};
};

}  // namespace app
