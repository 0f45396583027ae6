#include "shared/aws/aws_json_client.h"

#include "shared/aws/sigv4_signer.h"
#include "shared/logging.h"

namespace shared::aws {

EndpointParts split_endpoint(const std::string& url) {
  EndpointParts parts;
  const auto scheme_end = url.find("://");
  parts.scheme = scheme_end == std::string::npos ? "https" : url.substr(0, scheme_end);
  const size_t host_start = scheme_end == std::string::npos ? 0 : scheme_end + 3;
  const size_t path_start = url.find('/', host_start);
  parts.host_header = url.substr(
      host_start, path_start == std::string::npos ? std::string::npos : path_start - host_start);
  parts.base_path = path_start == std::string::npos ? "" : url.substr(path_start);
  while (!parts.base_path.empty() && parts.base_path.back() == '/') parts.base_path.pop_back();
  const std::string default_port = parts.scheme == "https" ? ":443" : ":80";
  if (parts.host_header.size() > default_port.size() &&
      parts.host_header.compare(parts.host_header.size() - default_port.size(), default_port.size(),
                                default_port) == 0)
    parts.host_header.resize(parts.host_header.size() - default_port.size());
  return parts;
}

AwsJsonClient::AwsJsonClient(AwsSettings settings, std::string service_id, std::string signing_name,
                             std::string json_version,
                             std::shared_ptr<CredentialsProvider> credentials,
                             http::HttpClient& http, std::shared_ptr<RetryStrategy> retry)
    : settings_(std::move(settings)),
      service_id_(std::move(service_id)),
      signing_name_(std::move(signing_name)),
      content_type_("application/x-amz-json-" + json_version),
      credentials_(std::move(credentials)),
      http_(http),
      retry_(std::move(retry)) {
  if (!retry_) {
    RetrySettings rs;
    rs.max_attempts = settings_.max_attempts;
    retry_ = std::make_shared<RetryStrategy>(rs);
  }
  endpoint_ = resolve_endpoint(settings_, service_id_);
}

nlohmann::json AwsJsonClient::call(const std::string& target, const nlohmann::json& body) {
  const std::string payload = body.dump();
  return run_with_retries<nlohmann::json>(
      *retry_,
      [&](int attempt_number) {
        if (attempt_number > 1)
          log::debug("aws retry", {{"target", target}, {"attempt", attempt_number}});
        return attempt(target, payload);
      },
      []() -> std::optional<AttemptFailure> {
        try {
          throw;
        } catch (const AwsError& e) {
          return AttemptFailure{e.code(), e.status(), false, false, e.clock_skew_corrected()};
        } catch (const http::TransportError& e) {
          if (e.kind() == http::TransportError::Kind::kTls ||
              e.kind() == http::TransportError::Kind::kAborted)
            return std::nullopt;
          return AttemptFailure{"", 0, true, e.kind() == http::TransportError::Kind::kTimeout};
        } catch (...) {
          return std::nullopt;
        }
      });
}

nlohmann::json AwsJsonClient::attempt(const std::string& target, const std::string& payload) {
  const EndpointParts parts = split_endpoint(endpoint_);
  SignableRequest sr;
  sr.method = "POST";
  sr.path = parts.base_path.empty() ? "/" : parts.base_path + "/";
  sr.headers = {
      {"Host", parts.host_header}, {"Content-Type", content_type_}, {"X-Amz-Target", target}};
  sr.body = payload;
  SigningParams params;
  params.region = settings_.region.empty() ? "us-east-1" : settings_.region;
  params.service = signing_name_;
  params.credentials = credentials_->get();
  params.time = clock_->now();
  SigV4Signer::sign(sr, params);

  http::ClientRequest req;
  req.method = "POST";
  req.url = parts.scheme + "://" + parts.host_header + sr.path;
  req.headers = sr.headers;
  req.body = payload;
  req.connect_timeout = settings_.connect_timeout;
  req.timeout = settings_.request_timeout;
  http::ClientResponse res = http_.send(req);
  if (res.status >= 200 && res.status < 300) {
    if (res.body.empty()) return nlohmann::json::object();
    nlohmann::json j = nlohmann::json::parse(res.body, nullptr, false);
    if (j.is_discarded())
      throw AwsError("SerializationException", "response is not JSON", res.status, false);
    return j;
  }
  ErrorShape shape = parse_error_shape(res.header("x-amzn-errortype").value_or(""), res.body);
  if (shape.code.empty()) shape.code = "HttpStatus" + std::to_string(res.status);
  const bool corrected = clock_->correct(shape.code, res.header("date").value_or(""));
  const bool retryable = is_retryable(
      AttemptFailure{shape.code, static_cast<int>(res.status), false, false, corrected});
  throw AwsError(shape.code, shape.message, static_cast<int>(res.status), retryable, corrected);
}

}  // namespace shared::aws
