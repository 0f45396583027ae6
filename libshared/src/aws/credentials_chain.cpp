#include <ctime>

#include "shared/aws/credentials.h"
#include "shared/aws/profile_file.h"
#include "shared/logging.h"

namespace shared::aws {
namespace {

class StaticProvider : public CredentialsProvider {
 public:
  explicit StaticProvider(Credentials c) : credentials_(std::move(c)) {}
  Credentials get() override { return credentials_; }

 private:
  Credentials credentials_;
};

class EnvironmentSource : public CredentialsSource {
 public:
  explicit EnvironmentSource(const AwsSettings& s) : settings_(s) {}
  std::string name() const override { return "environment"; }
  std::optional<Credentials> find(std::string& skipped) override {
    if (settings_.access_key_id.empty() || settings_.secret_access_key.empty()) {
      skipped = "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY not set";
      return std::nullopt;
    }
    return Credentials{settings_.access_key_id, settings_.secret_access_key,
                       settings_.session_token, std::nullopt};
  }

 private:
  AwsSettings settings_;
};

class ProfileSource : public CredentialsSource {
 public:
  explicit ProfileSource(const AwsSettings& s) : settings_(s) {}
  std::string name() const override { return "profile " + settings_.profile; }
  std::optional<Credentials> find(std::string& skipped) override {
    ProfileSection p = load_profile(settings_, settings_.profile);
    auto key = p.find("aws_access_key_id");
    auto secret = p.find("aws_secret_access_key");
    if (key == p.end() || secret == p.end() || key->second.empty() || secret->second.empty()) {
      skipped = "no aws_access_key_id/aws_secret_access_key for profile '" + settings_.profile +
                "' in " + credentials_file_path(settings_) + " or " + config_file_path(settings_);
      return std::nullopt;
    }
    Credentials c{key->second, secret->second, "", std::nullopt};
    if (auto token = p.find("aws_session_token"); token != p.end()) c.session_token = token->second;
    return c;
  }

 private:
  AwsSettings settings_;
};

}  // namespace

std::optional<std::chrono::system_clock::time_point> parse_iso8601(const std::string& text) {
  std::tm tm{};
  int consumed = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) != 6)
    return std::nullopt;
  size_t i = static_cast<size_t>(consumed);
  if (i < text.size() && text[i] == '.') {
    ++i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
  }
  if (i >= text.size() || !(text[i] == 'Z' || text.compare(i, std::string::npos, "+00:00") == 0))
    return std::nullopt;
  if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
      tm.tm_min > 59 || tm.tm_sec > 60)
    return std::nullopt;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  const std::time_t t = timegm(&tm);
  return std::chrono::system_clock::from_time_t(t);
}

std::unique_ptr<CredentialsSource> make_environment_source(const AwsSettings& settings) {
  return std::make_unique<EnvironmentSource>(settings);
}

std::unique_ptr<CredentialsSource> make_profile_source(const AwsSettings& settings) {
  return std::make_unique<ProfileSource>(settings);
}

std::shared_ptr<CredentialsProvider> make_static_credentials(Credentials credentials) {
  return std::make_shared<StaticProvider>(std::move(credentials));
}

CredentialsChain::CredentialsChain(std::vector<std::unique_ptr<CredentialsSource>> sources,
                                   std::chrono::seconds refresh_before, Clock clock)
    : sources_(std::move(sources)), refresh_before_(refresh_before), clock_(std::move(clock)) {
  if (!clock_) clock_ = [] { return std::chrono::system_clock::now(); };
}

std::string CredentialsChain::active_source() const {
  std::lock_guard lock(mutex_);
  return active_;
}

Credentials CredentialsChain::get() {
  std::lock_guard lock(mutex_);
  const auto now = clock_();
  if (cached_ && (!cached_->expiration || *cached_->expiration - refresh_before_ > now))
    return *cached_;
  try {
    cached_ = fetch_locked();
    return *cached_;
  } catch (const CredentialsError& e) {
    // Still-valid credentials beat an outage of the credential endpoint.
    if (cached_ && cached_->expiration && *cached_->expiration > now) {
      log::warn("credentials refresh failed; using cached credentials until they expire",
                {{"error", e.what()}});
      return *cached_;
    }
    throw;
  }
}

Credentials CredentialsChain::fetch_locked() {
  std::string tried;
  for (auto& source : sources_) {
    std::string skipped;
    try {
      if (auto c = source->find(skipped)) {
        if (active_ != source->name())
          log::info("aws credentials found", {{"provider", source->name()}});
        active_ = source->name();
        return *c;
      }
      tried += (tried.empty() ? "" : "; ") + source->name() + ": " + skipped;
    } catch (const std::exception& e) {
      // A configured provider that fails ends the search, as in the SDKs: falling through to a
      // later provider would silently pick other credentials.
      throw CredentialsError("no AWS credentials: " + tried + (tried.empty() ? "" : "; ") +
                             source->name() + " failed: " + e.what());
    }
  }
  throw CredentialsError("no AWS credentials: tried " + tried);
}

std::shared_ptr<CredentialsProvider> make_default_credentials_chain(const AwsSettings& settings,
                                                                    http::HttpClient& client) {
  std::vector<std::unique_ptr<CredentialsSource>> sources;
  sources.push_back(make_environment_source(settings));
  sources.push_back(make_profile_source(settings));
  sources.push_back(make_web_identity_source(settings, client));
  sources.push_back(make_container_source(settings, client));
  sources.push_back(make_imds_source(settings, client));
  return std::make_shared<CredentialsChain>(std::move(sources));
}

}  // namespace shared::aws
