// The credential sources that ask a server: STS for a web identity token, the ECS/EKS container
// endpoint, and EC2 instance metadata (IMDSv2).
#include <arpa/inet.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "shared/aws/aws_json_client.h"
#include "shared/aws/credentials.h"

namespace shared::aws {
namespace {

std::string read_trimmed_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw CredentialsError("cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

// The text of the first <tag>...</tag> in a small, trusted-shape XML answer.
std::string xml_value(const std::string& xml, const std::string& tag) {
  const std::string open = "<" + tag + ">", close = "</" + tag + ">";
  auto b = xml.find(open);
  if (b == std::string::npos) return "";
  b += open.size();
  auto e = xml.find(close, b);
  if (e == std::string::npos) return "";
  return xml.substr(b, e - b);
}

std::string form_encode(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string out;
  for (const auto& [k, v] : fields) {
    if (!out.empty()) out += '&';
    out += http::url_encode(k) + "=" + http::url_encode(v);
  }
  return out;
}

// {"AccessKeyId","SecretAccessKey","Token","Expiration"} as the container endpoint and IMDS give.
Credentials credentials_from_json(const std::string& body, const std::string& from) {
  nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
  if (!j.is_object() || !j.contains("AccessKeyId") || !j.contains("SecretAccessKey") ||
      !j["AccessKeyId"].is_string() || !j["SecretAccessKey"].is_string())
    throw CredentialsError(from + " answered without AccessKeyId/SecretAccessKey");
  Credentials c;
  c.access_key_id = j["AccessKeyId"].get<std::string>();
  c.secret_access_key = j["SecretAccessKey"].get<std::string>();
  if (j.contains("Token") && j["Token"].is_string())
    c.session_token = j["Token"].get<std::string>();
  if (j.contains("Expiration") && j["Expiration"].is_string()) {
    c.expiration = parse_iso8601(j["Expiration"].get<std::string>());
    if (!c.expiration) throw CredentialsError(from + " answered a malformed Expiration");
  }
  return c;
}

// STS answers errors as <ErrorResponse><Error><Code>..</Code><Message>..</Message></Error>.
bool sts_error_is_retryable(const std::string& code, int status) {
  // IDPCommunicationError: STS could not reach the identity provider; the SDKs retry it.
  return code == "IDPCommunicationError" ||
         is_retryable(AttemptFailure{code, status, false, false});
}

class WebIdentitySource : public CredentialsSource {
 public:
  WebIdentitySource(const AwsSettings& s, http::HttpClient& client,
                    std::shared_ptr<RetryStrategy> retry)
      : settings_(s), client_(client), retry_(std::move(retry)) {
    if (!retry_) {
      RetrySettings rs;
      rs.max_attempts = settings_.max_attempts;
      retry_ = std::make_shared<RetryStrategy>(rs);
    }
  }
  std::string name() const override { return "web identity"; }
  std::optional<Credentials> find(std::string& skipped) override {
    if (settings_.web_identity_token_file.empty() || settings_.role_arn.empty()) {
      skipped = "AWS_WEB_IDENTITY_TOKEN_FILE/AWS_ROLE_ARN not set";
      return std::nullopt;
    }
    const std::string token = read_trimmed_file(settings_.web_identity_token_file);
    const std::string session_name =
        settings_.role_session_name.empty()
            ? "agent-suite-" +
                  std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count())
            : settings_.role_session_name;
    std::string endpoint;
    try {
      endpoint = resolve_endpoint(settings_, "sts");
    } catch (const std::exception&) {
      endpoint = "https://sts.amazonaws.com";
    }
    http::ClientRequest req;
    req.method = "POST";
    req.url = endpoint + "/";
    req.headers = {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}};
    req.body = form_encode({{"Action", "AssumeRoleWithWebIdentity"},
                            {"Version", "2011-06-15"},
                            {"RoleArn", settings_.role_arn},
                            {"RoleSessionName", session_name},
                            {"WebIdentityToken", token}});
    req.connect_timeout = settings_.connect_timeout;
    req.timeout = settings_.request_timeout;
    std::string body;
    try {
      body = run_with_retries<std::string>(
          *retry_, [&](int) { return assume_role(req); },
          []() -> std::optional<AttemptFailure> {
            try {
              throw;
            } catch (const AwsError& e) {
              // An IDPCommunicationError counts as a transient error for the retry decision.
              if (!e.retryable()) return std::nullopt;
              return AttemptFailure{
                  e.code() == "IDPCommunicationError" ? "ServiceUnavailable" : e.code(), e.status(),
                  false, false};
            } catch (const http::TransportError& e) {
              if (e.kind() == http::TransportError::Kind::kTls ||
                  e.kind() == http::TransportError::Kind::kAborted)
                return std::nullopt;
              return AttemptFailure{"", 0, true, e.kind() == http::TransportError::Kind::kTimeout};
            } catch (...) {
              return std::nullopt;
            }
          });
    } catch (const AwsError& e) {
      throw CredentialsError(e.what());
    } catch (const http::TransportError& e) {
      throw CredentialsError(std::string("STS AssumeRoleWithWebIdentity: ") + e.what());
    }
    Credentials c;
    c.access_key_id = xml_value(body, "AccessKeyId");
    c.secret_access_key = xml_value(body, "SecretAccessKey");
    c.session_token = xml_value(body, "SessionToken");
    if (c.access_key_id.empty() || c.secret_access_key.empty())
      throw CredentialsError("STS AssumeRoleWithWebIdentity answered without credentials");
    // Temporary credentials always expire; an answer without a readable Expiration is malformed
    // (taking it as "never" would keep using them after they stop working).
    c.expiration = parse_iso8601(xml_value(body, "Expiration"));
    if (!c.expiration)
      throw CredentialsError(
          "STS AssumeRoleWithWebIdentity answered a missing or malformed Expiration");
    return c;
  }

 private:
  // One attempt: the response body on 200, else AwsError with STS's error code.
  std::string assume_role(const http::ClientRequest& req) {
    http::ClientResponse res = client_.send(req);
    if (res.status == 200) return res.body;
    std::string code = xml_value(res.body, "Code");
    if (code.empty()) code = "HttpStatus" + std::to_string(res.status);
    const int status = static_cast<int>(res.status);
    throw AwsError(code,
                   "STS AssumeRoleWithWebIdentity answered " + std::to_string(status) + ": " +
                       xml_value(res.body, "Message"),
                   status, sts_error_is_retryable(code, status));
  }

  AwsSettings settings_;
  http::HttpClient& client_;
  std::shared_ptr<RetryStrategy> retry_;
};

}  // namespace

// FULL_URI may only point at this machine or the ECS/EKS agents, unless it is https.
bool container_full_uri_allowed(const std::string& url) {
  EndpointParts parts = split_endpoint(url);
  if (parts.scheme == "https") return true;
  std::string host = parts.host_header;
  if (!host.empty() && host.front() == '[') {
    host = host.substr(1, host.find(']') - 1);
  } else if (auto colon = host.rfind(':'); colon != std::string::npos) {
    host.resize(colon);
  }
  if (host == "localhost" || host == "169.254.170.2" || host == "169.254.170.23" || host == "::1" ||
      host == "fd00:ec2::23")
    return true;
  in_addr v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  return false;
}

namespace {

class ContainerSource : public CredentialsSource {
 public:
  ContainerSource(const AwsSettings& s, http::HttpClient& client) : settings_(s), client_(client) {}
  std::string name() const override { return "container"; }
  std::optional<Credentials> find(std::string& skipped) override {
    std::string url;
    if (!settings_.container_relative_uri.empty()) {
      url = "http://" + settings_.container_host + settings_.container_relative_uri;
    } else if (!settings_.container_full_uri.empty()) {
      url = settings_.container_full_uri;
      if (!container_full_uri_allowed(url))
        throw CredentialsError(
            "AWS_CONTAINER_CREDENTIALS_FULL_URI must be https or a loopback/ECS/EKS address: " +
            url);
    } else {
      skipped = "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI/_FULL_URI not set";
      return std::nullopt;
    }
    http::ClientRequest req;
    req.url = url;
    req.connect_timeout = settings_.metadata_timeout * 2;
    req.timeout = std::chrono::milliseconds(5'000);
    req.headers.emplace_back("Accept", "application/json");
    std::string token = settings_.container_authorization_token;
    if (!settings_.container_authorization_token_file.empty())
      token = read_trimmed_file(settings_.container_authorization_token_file);
    if (token.find_first_of("\r\n") != std::string::npos)
      throw CredentialsError("the container authorization token holds a line break");
    if (!token.empty()) req.headers.emplace_back("Authorization", token);
    http::ClientResponse res = client_.send(req);
    if (res.status != 200)
      throw CredentialsError("container endpoint answered " + std::to_string(res.status));
    return credentials_from_json(res.body, "container endpoint");
  }

 private:
  AwsSettings settings_;
  http::HttpClient& client_;
};

class ImdsSource : public CredentialsSource {
 public:
  ImdsSource(const AwsSettings& s, http::HttpClient& client) : settings_(s), client_(client) {}
  std::string name() const override { return "imds"; }
  std::optional<Credentials> find(std::string& skipped) override {
    if (settings_.ec2_metadata_disabled) {
      skipped = "AWS_EC2_METADATA_DISABLED";
      return std::nullopt;
    }
    http::ClientRequest token_req;
    token_req.method = "PUT";
    token_req.url = settings_.ec2_metadata_endpoint + "/latest/api/token";
    token_req.headers = {{"X-aws-ec2-metadata-token-ttl-seconds", "21600"}};
    token_req.connect_timeout = settings_.metadata_timeout;
    token_req.timeout = settings_.metadata_timeout * 2;
    http::ClientResponse token = client_.send(token_req);
    // 403/404/405: this IMDS does not offer v2 tokens (an old IMDS, or a proxy in between).
    const bool v2_refused = token.status == 403 || token.status == 404 || token.status == 405;
    if (token.status != 200 && !(v2_refused && !settings_.ec2_metadata_v1_disabled))
      throw CredentialsError(
          "IMDS token request answered " + std::to_string(token.status) +
          (v2_refused ? " and AWS_EC2_METADATA_V1_DISABLED forbids IMDSv1" : ""));

    http::ClientRequest req;
    req.url = settings_.ec2_metadata_endpoint + "/latest/meta-data/iam/security-credentials/";
    if (token.status == 200) req.headers = {{"X-aws-ec2-metadata-token", token.body}};
    req.connect_timeout = settings_.metadata_timeout;
    req.timeout = settings_.metadata_timeout * 2;
    http::ClientResponse roles = client_.send(req);
    if (roles.status != 200)
      throw CredentialsError("IMDS role lookup answered " + std::to_string(roles.status));
    std::string role = roles.body.substr(0, roles.body.find('\n'));
    if (role.empty()) throw CredentialsError("IMDS has no instance role");
    req.url += http::url_encode(role);
    http::ClientResponse creds = client_.send(req);
    if (creds.status != 200)
      throw CredentialsError("IMDS credentials for role " + role + " answered " +
                             std::to_string(creds.status));
    return credentials_from_json(creds.body, "IMDS");
  }

 private:
  AwsSettings settings_;
  http::HttpClient& client_;
};

}  // namespace

std::unique_ptr<CredentialsSource> make_web_identity_source(const AwsSettings& settings,
                                                            http::HttpClient& client,
                                                            std::shared_ptr<RetryStrategy> retry) {
  return std::make_unique<WebIdentitySource>(settings, client, std::move(retry));
}

std::unique_ptr<CredentialsSource> make_container_source(const AwsSettings& settings,
                                                         http::HttpClient& client) {
  return std::make_unique<ContainerSource>(settings, client);
}

std::unique_ptr<CredentialsSource> make_imds_source(const AwsSettings& settings,
                                                    http::HttpClient& client) {
  return std::make_unique<ImdsSource>(settings, client);
}

}  // namespace shared::aws
