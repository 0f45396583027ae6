#include "shared/aws/sigv4_verifier.h"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <set>

namespace shared::aws {
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::string field(const std::string& auth, const std::string& name) {
  const auto b = auth.find(name + "=");
  if (b == std::string::npos) return "";
  const auto start = b + name.size() + 1;
  const auto e = auth.find(',', start);
  std::string v = auth.substr(start, e == std::string::npos ? std::string::npos : e - start);
  while (!v.empty() && v.back() == ' ') v.pop_back();
  return v;
}

bool parse_amz_date(const std::string& s, std::chrono::system_clock::time_point& out) {
  std::tm tm{};
  if (s.size() != 16 || std::sscanf(s.c_str(), "%4d%2d%2dT%2d%2d%2dZ", &tm.tm_year, &tm.tm_mon,
                                    &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
    return false;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  out = std::chrono::system_clock::from_time_t(timegm(&tm));
  return true;
}

}  // namespace

VerifyResult verify_sigv4(const ReceivedRequest& request, const std::string& access_key_id,
                          const std::string& secret_access_key, const std::string& expected_service,
                          std::chrono::system_clock::time_point now) {
  VerifyResult r;
  r.failure = VerifyResult::Failure::kSignature;
  std::string auth, amz_date, token;
  for (const auto& [k, v] : request.headers) {
    const std::string name = lower(k);
    if (name == "authorization") auth = v;
    if (name == "x-amz-date") amz_date = v;
  }
  if (auth.rfind("AWS4-HMAC-SHA256 ", 0) != 0) {
    r.reason = "missing or non-SigV4 Authorization header";
    return r;
  }
  const std::string credential = field(auth, "Credential");
  const std::string signed_headers = field(auth, "SignedHeaders");
  const std::string signature = field(auth, "Signature");
  // AKID/date/region/service/aws4_request
  std::vector<std::string> scope;
  size_t start = 0;
  while (true) {
    auto slash = credential.find('/', start);
    scope.push_back(
        credential.substr(start, slash == std::string::npos ? std::string::npos : slash - start));
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  if (scope.size() != 5 || scope[4] != "aws4_request" || signed_headers.empty() ||
      signature.empty()) {
    r.reason = "malformed Authorization header";
    return r;
  }
  r.region = scope[2];
  r.service = scope[3];
  if (scope[0] != access_key_id) {
    r.reason = "unknown access key id " + scope[0];
    return r;
  }
  if (!expected_service.empty() && r.service != expected_service) {
    r.reason =
        "credential scope names service '" + r.service + "', expected '" + expected_service + "'";
    return r;
  }
  SigningParams params;
  if (!parse_amz_date(amz_date, params.time) || amz_date.substr(0, 8) != scope[1]) {
    r.reason = "missing or inconsistent X-Amz-Date";
    return r;
  }
  if (params.time > now + kMaxClockSkew || params.time < now - kMaxClockSkew) {
    r.failure = VerifyResult::Failure::kClockSkew;
    r.reason = "Signature expired: " + amz_date + " is more than 5 minutes from the server time " +
               format_amz_date(now);
    return r;
  }
  // Re-sign with exactly the headers the client said it signed.
  std::set<std::string> wanted;
  start = 0;
  while (true) {
    auto semi = signed_headers.find(';', start);
    wanted.insert(
        signed_headers.substr(start, semi == std::string::npos ? std::string::npos : semi - start));
    if (semi == std::string::npos) break;
    start = semi + 1;
  }
  if (!wanted.count("host")) {
    r.reason = "host is not signed";
    return r;
  }
  SignableRequest sr;
  sr.method = request.method;
  sr.path = request.path;
  sr.query = request.query;
  sr.body = request.body;
  for (const auto& [k, v] : request.headers) {
    const std::string name = lower(k);
    if (name == "x-amz-security-token" && wanted.count(name)) token = v;
    if (name == "x-amz-content-sha256" && wanted.count(name)) {
      // The header is signed, but only its value: that the body is what it claims is the
      // server's check (S3 answers XAmzContentSHA256Mismatch).
      const bool opaque = v == "UNSIGNED-PAYLOAD" || v.rfind("STREAMING-", 0) == 0;
      if (!opaque && v != sha256_hex(request.body)) {
        r.reason = "x-amz-content-sha256 does not match the body";
        return r;
      }
      params.payload_hash = v;
    }
    if (wanted.count(name) && name != "x-amz-date" && name != "x-amz-security-token")
      sr.headers.emplace_back(k, v);
  }
  params.region = r.region;
  params.service = r.service;
  params.credentials = {access_key_id, secret_access_key, token, std::nullopt};
  SigningResult expected = SigV4Signer::sign(sr, params);
  if (expected.authorization != auth) {
    r.reason = "signature does not match";
    return r;
  }
  r.ok = true;
  r.failure = VerifyResult::Failure::kNone;
  return r;
}

}  // namespace shared::aws
