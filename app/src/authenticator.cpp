#include "authenticator.h"

#include <string_view>

#include "alb_oidc_authenticator.h"
#include "token_authenticator.h"

namespace app {

bool plausible_user_id(const std::string& id) {
  if (id.empty() || id.size() > 256) return false;
  for (unsigned char c : id) {
    if (c < 0x21 || c > 0x7e) return false;
    // These would change the meaning of the hub topic the id goes into (and the agent refuses
    // them).
    for (char bad : std::string_view("/#?%\\{}\"'"))
      if (c == static_cast<unsigned char>(bad)) return false;
  }
  return true;
}

std::unique_ptr<Authenticator> make_authenticator(const AppConfig& config) {
  if (config.auth == "token") return std::make_unique<TokenAuthenticator>(config.token_file);
  if (config.auth == "alb-oidc") {
    AlbOidcAuthenticator::Options options;
    options.signer_arn = config.oidc_signer_arn;
    options.keys_dir = config.oidc_keys_dir;
    options.keys_url = config.oidc_keys_url;
    options.key_cache = config.oidc_key_cache;
    return std::make_unique<AlbOidcAuthenticator>(options);
  }
  return std::make_unique<LocalAuthenticator>(config.local_user);
}

}  // namespace app
