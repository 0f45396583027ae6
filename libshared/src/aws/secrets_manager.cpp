#include "shared/aws/secrets_manager.h"

#include <openssl/evp.h>

namespace shared::aws {
namespace {

std::string base64_decode(const std::string& in) {
  if (in.empty()) return "";
  std::string out(in.size(), '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(in.data()),
                                static_cast<int>(in.size()));
  if (n < 0) return "";
  size_t pad = 0;
  for (auto it = in.rbegin(); it != in.rend() && *it == '=' && pad < 2; ++it) ++pad;
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

std::string string_field(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

SecretsManagerClient::SecretsManagerClient(AwsSettings settings,
                                           std::shared_ptr<CredentialsProvider> credentials,
                                           http::HttpClient& http, std::chrono::seconds cache_ttl,
                                           std::shared_ptr<RetryStrategy> retry)
    : client_(std::move(settings), "secrets-manager", "secretsmanager", "1.1",
              std::move(credentials), http, std::move(retry)),
      cache_ttl_(cache_ttl) {}

SecretValue SecretsManagerClient::get_secret_value(const std::string& secret_id,
                                                   const std::string& version_stage) {
  const std::string key = secret_id + "\n" + version_stage;
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(mutex_);
    auto it = cache_.find(key);
    if (it != cache_.end() && now - it->second.first < cache_ttl_) return it->second.second;
  }
  nlohmann::json request = {{"SecretId", secret_id}};
  if (!version_stage.empty()) request["VersionStage"] = version_stage;
  nlohmann::json answer = client_.call("secretsmanager.GetSecretValue", request);
  SecretValue value;
  value.arn = string_field(answer, "ARN");
  value.name = string_field(answer, "Name");
  value.version_id = string_field(answer, "VersionId");
  value.secret_string = string_field(answer, "SecretString");
  value.secret_binary = base64_decode(string_field(answer, "SecretBinary"));
  std::lock_guard lock(mutex_);
  cache_[key] = {now, value};
  return value;
}

std::string read_secret_setting(const ConfigSource& source, const std::string& name,
                                SecretsManagerClient* client, bool required) {
  const std::string arn_setting = name + "_SECRET_ARN";
  const std::string reference = source.string(arn_setting, "");
  if (reference.empty()) {
    const std::string fallback = source.string(name, "");
    if (fallback.empty() && required) throw ConfigError(name, "not set (nor " + arn_setting + ")");
    return fallback;
  }
  std::string secret_id = reference, json_key;
  if (auto hash = reference.find('#'); hash != std::string::npos) {
    secret_id = reference.substr(0, hash);
    json_key = reference.substr(hash + 1);
  }
  std::string why;
  if (client == nullptr) {
    why = "no AWS access configured to read it";
  } else {
    try {
      SecretValue v = client->get_secret_value(secret_id);
      std::string text = v.secret_string.empty() ? v.secret_binary : v.secret_string;
      if (json_key.empty()) {
        if (!text.empty()) return text;
        why = "the secret is empty";
      } else {
        nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
        if (j.is_object() && j.contains(json_key) && j[json_key].is_string() &&
            !j[json_key].get<std::string>().empty())
          return j[json_key].get<std::string>();
        why = "the secret has no string key '" + json_key + "'";
      }
    } catch (const std::exception& e) {
      why = e.what();
    }
  }
  for (char& c : why)
    if (c == '\n' || c == '\r') c = ' ';  // one line, as every configuration error
  throw ConfigError(arn_setting, "cannot read " + secret_id + ": " + why);
}

}  // namespace shared::aws
