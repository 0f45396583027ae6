// Checks a SigV4-signed request the way an AWS service does: the fakes in tests/ use it to
// reject requests signed with the wrong key, scope or headers.
#pragma once

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
  std::string reason;   // why not, for the 401/403 body
  std::string service;  // from the credential scope
  std::string region;
};

// access_key_id/secret_access_key are what the server expects. expected_service may be empty
// (any). Never throws.
VerifyResult verify_sigv4(const ReceivedRequest& request, const std::string& access_key_id,
                          const std::string& secret_access_key, const std::string& expected_service);

}  // namespace shared::aws
