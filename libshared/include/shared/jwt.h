// JSON Web Tokens (RFC 7519) in compact JWS form: signing and verification with HS256, RS256 and
// ES256 on OpenSSL. Verification is strict: the allowed algorithms are exactly those of the keys
// given, "none" is always refused, exp/nbf are checked with a leeway, and HMACs are compared in
// constant time.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace shared::jwt {

enum class Algorithm { kHS256, kRS256, kES256 };

// "HS256", "RS256", "ES256".
std::string_view algorithm_name(Algorithm algorithm);
// Parses a JOSE algorithm name; nullopt for anything else (including "none").
std::optional<Algorithm> parse_algorithm(std::string_view name);

// One verification or signing key.
struct Key {
  Algorithm algorithm = Algorithm::kHS256;
  // HS256: the shared secret bytes; RS256/ES256: a PEM (public key or certificate to verify,
  // private key to sign; a private key also verifies).
  std::string material;
  // Optional "kid" to match; empty = any.
  std::string key_id;
};

// Why a token was refused. what() starts with a short reason code: "malformed",
// "alg_not_allowed", "bad_signature", "expired", "not_yet_valid", "bad_key".
class JwtError : public std::runtime_error {
 public:
  JwtError(std::string reason, const std::string& detail)
      : std::runtime_error(detail.empty() ? reason : reason + ": " + detail),
        reason_(std::move(reason)) {}
  const std::string& reason() const { return reason_; }

 private:
  std::string reason_;
};

// Signs claims (a JSON object) with the key; header {"alg":..., "typ":"JWT"[, "kid":...]}.
// ES256 signatures are JOSE (r||s, 64 bytes), not DER. Throws JwtError("bad_key") when the key
// cannot sign.
std::string sign(const nlohmann::json& claims, const Key& key);

struct VerifyOptions {
  std::chrono::seconds leeway{30};
  // Epoch (the default) = use the system clock.
  std::chrono::system_clock::time_point now = {};
};

// Verifies against any of the keys whose algorithm equals the token's "alg" (and whose key_id
// matches the token's "kid" when both are set), checks exp/nbf with the leeway and returns the
// payload claims. Throws JwtError.
nlohmann::json verify(std::string_view token, const std::vector<Key>& keys,
                      const VerifyOptions& options = {});

// Throws JwtError("bad_key") when the key cannot verify (or, with for_signing, sign) tokens of
// its algorithm: an empty secret, a PEM that does not parse, or a key of the wrong type or size.
// Lets a program refuse a bad key at start rather than at the first request.
void check_key(const Key& key, bool for_signing = false);

// Base64url without padding (RFC 7515 §2). Decoding also accepts trailing '=' padding and
// rejects any other character outside the alphabet.
std::string base64url_encode(std::string_view bytes);
std::optional<std::string> base64url_decode(std::string_view text);

}  // namespace shared::jwt
