#include "shared/aws/sigv4_signer.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <map>
#include <vector>

namespace shared::aws {
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

bool is_unreserved(unsigned char c) {
  return std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      int hi = hex_value(s[i + 1]);
      int lo = hex_value(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

// Header values are trimmed and runs of spaces collapse to one, as the suite expects.
std::string canonical_header_value(std::string_view v) {
  std::string out;
  bool in_space = false;
  for (char c : v) {
    const bool space = c == ' ' || c == '\t' || c == '\n' || c == '\r';
    if (space) {
      in_space = true;
      continue;
    }
    if (in_space && !out.empty()) out += ' ';
    in_space = false;
    out += c;
  }
  return out;
}

// Headers a proxy or the transport may change; signing them would break the signature.
bool skipped_header(const std::string& name) {
  return name == "authorization" || name == "user-agent" || name == "x-amzn-trace-id" ||
         name == "expect" || name == "connection" || name == "transfer-encoding";
}

void set_header(http::HeaderList& headers, const std::string& name, const std::string& value) {
  const std::string want = lower(name);
  headers.erase(std::remove_if(headers.begin(), headers.end(),
                               [&](const auto& h) { return lower(h.first) == want; }),
                headers.end());
  headers.emplace_back(name, value);
}

}  // namespace

std::string hex_encode(std::string_view bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

std::string sha256_hex(std::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  return hex_encode(std::string_view(reinterpret_cast<const char*>(digest), sizeof digest));
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return std::string(reinterpret_cast<const char*>(out), len);
}

std::string format_amz_date(std::chrono::system_clock::time_point time) {
  const std::time_t t = std::chrono::system_clock::to_time_t(time);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

std::string uri_encode(std::string_view s, bool keep_slash) {
  static const char* digits = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size() * 3);
  for (unsigned char c : s) {
    if (is_unreserved(c) || (keep_slash && c == '/')) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += digits[c >> 4];
      out += digits[c & 15];
    }
  }
  return out;
}

std::string SigV4Signer::canonical_uri(const std::string& path, bool normalize) {
  std::string p = path.empty() ? "/" : path;
  if (normalize) {
    std::vector<std::string> segments;
    size_t start = 0;
    while (start <= p.size()) {
      size_t slash = p.find('/', start);
      if (slash == std::string::npos) slash = p.size();
      std::string seg = p.substr(start, slash - start);
      if (seg == "..") {
        if (!segments.empty()) segments.pop_back();
      } else if (!seg.empty() && seg != ".") {
        segments.push_back(seg);
      }
      start = slash + 1;
    }
    std::string joined;
    for (const auto& s : segments) joined += "/" + s;
    const bool trailing = p.size() > 1 && p.back() == '/' && !segments.empty();
    const std::string last = p.substr(p.find_last_of('/') + 1);
    if (trailing || (!segments.empty() && (last == "." || last == ".."))) joined += "/";
    if (joined.empty()) joined = "/";
    p = joined;
  }
  return uri_encode(p, true);
}

std::string SigV4Signer::canonical_query(const std::string& query) {
  if (query.empty()) return "";
  std::vector<std::pair<std::string, std::string>> params;
  size_t start = 0;
  while (start <= query.size()) {
    size_t amp = query.find('&', start);
    if (amp == std::string::npos) amp = query.size();
    std::string_view part(query.data() + start, amp - start);
    if (!part.empty()) {
      size_t eq = part.find('=');
      std::string key = percent_decode(part.substr(0, eq));
      std::string value = eq == std::string_view::npos ? "" : percent_decode(part.substr(eq + 1));
      params.emplace_back(uri_encode(key, false), uri_encode(value, false));
    }
    start = amp + 1;
  }
  std::sort(params.begin(), params.end());
  std::string out;
  for (const auto& [k, v] : params) {
    if (!out.empty()) out += '&';
    out += k + "=" + v;
  }
  return out;
}

namespace {

struct CanonicalHeaders {
  std::string lines;  // "name:value\n" for each, sorted
  std::string names;  // "a;b;c"
};

CanonicalHeaders canonical_headers(const http::HeaderList& headers) {
  // Same-named headers join in arrival order with ','.
  std::map<std::string, std::string> canonical;
  for (const auto& [name, value] : headers) {
    std::string key = lower(name);
    if (skipped_header(key)) continue;
    std::string v = canonical_header_value(value);
    auto it = canonical.find(key);
    if (it == canonical.end()) {
      canonical.emplace(key, v);
    } else {
      it->second += "," + v;
    }
  }
  CanonicalHeaders out;
  for (const auto& [k, v] : canonical) {
    out.lines += k + ":" + v + "\n";
    if (!out.names.empty()) out.names += ';';
    out.names += k;
  }
  return out;
}

// Canonical request, string to sign and signature, from the parts both signing modes share.
void compute_signature(SigningResult& result, const SignableRequest& request,
                       const SigningParams& params, const std::string& canonical_query,
                       const CanonicalHeaders& headers, const std::string& payload_hash,
                       const std::string& amz_date) {
  const std::string date = amz_date.substr(0, 8);
  result.canonical_request =
      request.method + "\n" + SigV4Signer::canonical_uri(request.path, params.normalize_path) +
      "\n" + canonical_query + "\n" + headers.lines + "\n" + headers.names + "\n" + payload_hash;
  const std::string scope = date + "/" + params.region + "/" + params.service + "/aws4_request";
  result.string_to_sign =
      "AWS4-HMAC-SHA256\n" + amz_date + "\n" + scope + "\n" + sha256_hex(result.canonical_request);
  std::string key = hmac_sha256("AWS4" + params.credentials.secret_access_key, date);
  key = hmac_sha256(key, params.region);
  key = hmac_sha256(key, params.service);
  key = hmac_sha256(key, "aws4_request");
  result.signature = hex_encode(hmac_sha256(key, result.string_to_sign));
  result.authorization = "AWS4-HMAC-SHA256 Credential=" + params.credentials.access_key_id + "/" +
                         scope + ", SignedHeaders=" + headers.names +
                         ", Signature=" + result.signature;
}

}  // namespace

SigningResult SigV4Signer::sign(SignableRequest& request, const SigningParams& params) {
  const std::string amz_date = format_amz_date(params.time);
  const std::string payload_hash =
      params.payload_hash ? *params.payload_hash : sha256_hex(request.body);
  set_header(request.headers, "X-Amz-Date", amz_date);
  if (!params.credentials.session_token.empty())
    set_header(request.headers, "X-Amz-Security-Token", params.credentials.session_token);
  if (params.add_content_sha256_header)
    set_header(request.headers, "x-amz-content-sha256", payload_hash);
  SigningResult result;
  compute_signature(result, request, params, canonical_query(request.query),
                    canonical_headers(request.headers), payload_hash, amz_date);
  set_header(request.headers, "Authorization", result.authorization);
  return result;
}

SigningResult SigV4Signer::presign(const SignableRequest& request, const SigningParams& params,
                                   std::chrono::seconds expires, std::string& signed_query) {
  const std::string amz_date = format_amz_date(params.time);
  const std::string payload_hash =
      params.payload_hash ? *params.payload_hash : sha256_hex(request.body);
  http::HeaderList headers_to_sign = request.headers;
  if (params.add_content_sha256_header)
    set_header(headers_to_sign, "x-amz-content-sha256", payload_hash);
  const CanonicalHeaders headers = canonical_headers(headers_to_sign);
  const std::string scope =
      amz_date.substr(0, 8) + "/" + params.region + "/" + params.service + "/aws4_request";
  std::string auth_query = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=" +
                           uri_encode(params.credentials.access_key_id + "/" + scope, false) +
                           "&X-Amz-Date=" + amz_date +
                           "&X-Amz-SignedHeaders=" + uri_encode(headers.names, false);
  if (expires.count() > 0) auth_query += "&X-Amz-Expires=" + std::to_string(expires.count());
  if (!params.credentials.session_token.empty())
    auth_query += "&X-Amz-Security-Token=" + uri_encode(params.credentials.session_token, false);
  const std::string full_query =
      request.query.empty() ? auth_query : request.query + "&" + auth_query;
  SigningResult result;
  compute_signature(result, request, params, canonical_query(full_query), headers, payload_hash,
                    amz_date);
  signed_query = full_query + "&X-Amz-Signature=" + result.signature;
  return result;
}

}  // namespace shared::aws
