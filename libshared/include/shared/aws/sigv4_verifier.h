// Checks a SigV4-signed request the way an AWS service does: the fakes in tests/ use it to
// reject requests signed with the wrong key, scope or headers.
#pragma once

#include <chrono>
#include <string>

#include "shared/aws/sigv4_signer.h"

namespace shared::aws {

struct ReceivedRequest {
  std::string method;
  std::string path;   // as received on the wire (percent-encoded)
  std::string query;  // without '?'
  http::HeaderList headers;
  std::string body;
};

struct VerifyResult {
  bool ok = false;
  // Why not: a bad signature (AWS answers 403 InvalidSignatureException, or
  // UnrecognizedClientException for an unknown key; the fake Bedrock answers 401 as the issue
  // asks) or an X-Amz-Date too far from the server's clock (403 InvalidSignatureException
  // "Signature expired" in AWS, with the server's Date header for clients to correct their clock).
  enum class Failure { kNone, kSignature, kClockSkew } failure = Failure::kNone;
  std::string reason;   // for the error body
  std::string service;  // from the credential scope
  std::string region;
};

// How far X-Amz-Date may be from the server's clock, as AWS allows.
inline constexpr std::chrono::minutes kMaxClockSkew{5};

// access_key_id/secret_access_key are what the server expects. expected_service may be empty
// (any). A signed x-amz-content-sha256 must be the SHA-256 of the body (or UNSIGNED-PAYLOAD /
// a STREAMING-* value), and X-Amz-Date within kMaxClockSkew of `now`. Never throws.
VerifyResult verify_sigv4(
    const ReceivedRequest& request, const std::string& access_key_id,
    const std::string& secret_access_key, const std::string& expected_service,
    std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

}  // namespace shared::aws
