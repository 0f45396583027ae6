// AWS Signature Version 4 for request headers: canonical request, string to sign, signing key,
// Authorization header. Paths are given as they go on the wire; as every AWS service but S3
// expects, the canonical URI encodes them once more (a Bedrock model id's ':' is %3A on the wire
// and %253A in the canonical URI).
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "shared/aws/credentials.h"
#include "shared/http_client.h"

namespace shared::aws {

struct SignableRequest {
  std::string method = "GET";
  std::string path = "/";    // as on the wire (already percent-encoded where needed)
  std::string query;         // without '?', as on the wire
  http::HeaderList headers;  // must include Host
  std::string body;
};

struct SigningParams {
  std::string region;
  std::string service;  // the signing name: "bedrock" for Bedrock Runtime, "dynamodb", ...
  Credentials credentials;
  std::chrono::system_clock::time_point time;
  bool normalize_path = true;  // remove "." / ".." / empty segments (all services but S3)
  bool add_content_sha256_header = false;   // x-amz-content-sha256 (S3 style)
  std::optional<std::string> payload_hash;  // e.g. "UNSIGNED-PAYLOAD"; default: SHA-256 of body
};

// What signing computed; tests compare each step with the suite.
struct SigningResult {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;
  std::string authorization;
};

class SigV4Signer {
 public:
  // Adds X-Amz-Date, X-Amz-Security-Token (with a session token), x-amz-content-sha256 when asked,
  // and Authorization to request.headers. Any earlier values of those are replaced.
  static SigningResult sign(SignableRequest& request, const SigningParams& params);

  // Query-string signing (presigned URLs): returns the query to send, the request's own query
  // followed by X-Amz-Algorithm, -Credential, -Date, -SignedHeaders, -Expires (left out when
  // `expires` is 0, as aws-c-auth does), -Security-Token (with a session token) and -Signature.
  // The request's headers are signed as given, plus x-amz-content-sha256 when
  // add_content_sha256_header (the request must then carry that header with the payload hash).
  static SigningResult presign(const SignableRequest& request, const SigningParams& params,
                               std::chrono::seconds expires, std::string& signed_query);

  static std::string canonical_uri(const std::string& path, bool normalize);
  static std::string canonical_query(const std::string& query);
};

// Helpers the signer and the fakes share.
std::string sha256_hex(std::string_view data);
std::string hmac_sha256(std::string_view key, std::string_view data);  // raw bytes
std::string hex_encode(std::string_view bytes);
std::string format_amz_date(std::chrono::system_clock::time_point time);  // 20150830T123600Z
// RFC 3986 encoding of everything but unreserved characters (and '/' when keep_slash).
std::string uri_encode(std::string_view s, bool keep_slash);

}  // namespace shared::aws
