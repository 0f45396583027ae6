// JWT signing and verification on OpenSSL 3 (EVP interfaces only).
#include "shared/jwt.h"

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <array>
#include <cmath>
#include <map>
#include <memory>
#include <mutex>

namespace shared::jwt {
namespace {

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr std::size_t kEs256PartBytes = 32;
// Parsed PEM keys are cached by their text: a hub verifies a token per request and parsing a PEM
// costs far more than the signature check. Few distinct keys exist per process.
constexpr std::size_t kMaxCachedKeys = 32;

struct PkeyDeleter {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct BioDeleter {
  void operator()(BIO* p) const { BIO_free(p); }
};
struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};
struct EcdsaSigDeleter {
  void operator()(ECDSA_SIG* p) const { ECDSA_SIG_free(p); }
};
struct X509Deleter {
  void operator()(X509* p) const { X509_free(p); }
};
using PkeyPtr = std::shared_ptr<EVP_PKEY>;

std::string_view segment_name(int index) {
  static constexpr std::array<std::string_view, 3> kNames = {"header", "payload", "signature"};
  return kNames[static_cast<std::size_t>(index)];
}

// Loads a PEM as private key, public key or certificate; nullptr when it is none of them.
PkeyPtr parse_pem(const std::string& pem, bool need_private) {
  auto read = [&](auto reader) -> EVP_PKEY* {
    std::unique_ptr<BIO, BioDeleter> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    if (!bio) return nullptr;
    return reader(bio.get());
  };
  EVP_PKEY* key =
      read([](BIO* b) { return PEM_read_bio_PrivateKey(b, nullptr, nullptr, nullptr); });
  if (key == nullptr && !need_private) {
    key = read([](BIO* b) { return PEM_read_bio_PUBKEY(b, nullptr, nullptr, nullptr); });
    if (key == nullptr) {
      std::unique_ptr<BIO, BioDeleter> bio(
          BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
      std::unique_ptr<X509, X509Deleter> cert(
          PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
      if (cert) key = X509_get_pubkey(cert.get());
    }
  }
  return key == nullptr ? nullptr : PkeyPtr(key, PkeyDeleter{});
}

PkeyPtr cached_pem(const std::string& pem, bool need_private) {
  static std::mutex mutex;
  static std::map<std::pair<std::string, bool>, PkeyPtr> cache;
  std::lock_guard lock(mutex);
  auto key = std::make_pair(pem, need_private);
  if (auto it = cache.find(key); it != cache.end()) return it->second;
  PkeyPtr parsed = parse_pem(pem, need_private);
  if (parsed) {
    if (cache.size() >= kMaxCachedKeys) cache.clear();
    cache.emplace(std::move(key), parsed);
  }
  return parsed;
}

// The key fits the algorithm: RSA for RS256 (at least 2048 bits), P-256 EC for ES256.
bool key_fits(EVP_PKEY* key, Algorithm algorithm) {
  if (algorithm == Algorithm::kRS256) {
    return EVP_PKEY_is_a(key, "RSA") && EVP_PKEY_get_bits(key) >= 2048;
  }
  if (algorithm == Algorithm::kES256) {
    if (!EVP_PKEY_is_a(key, "EC")) return false;
    std::array<char, 64> group{};
    std::size_t len = 0;
    if (EVP_PKEY_get_utf8_string_param(key, "group", group.data(), group.size(), &len) != 1)
      return false;
    const std::string_view name(group.data(), len);
    return name == "prime256v1" || name == "P-256" || name == "secp256r1";
  }
  return false;
}

std::string hmac_sha256(std::string_view secret, std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
  unsigned int len = 0;
  if (HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data(),
           &len) == nullptr) {
    throw JwtError("bad_key", "HMAC failed");
  }
  return std::string(reinterpret_cast<const char*>(out.data()), len);
}

std::string der_to_jose(const std::string& der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  std::unique_ptr<ECDSA_SIG, EcdsaSigDeleter> sig(
      d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  if (!sig) throw JwtError("bad_key", "cannot decode ECDSA signature");
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  std::string out(2 * kEs256PartBytes, '\0');
  auto* buf = reinterpret_cast<unsigned char*>(out.data());
  if (BN_bn2binpad(r, buf, kEs256PartBytes) < 0 ||
      BN_bn2binpad(s, buf + kEs256PartBytes, kEs256PartBytes) < 0) {
    throw JwtError("bad_key", "ECDSA signature too large");
  }
  return out;
}

// JOSE r||s to DER; nullopt when the length is not exactly 64 bytes.
std::optional<std::string> jose_to_der(std::string_view jose) {
  if (jose.size() != 2 * kEs256PartBytes) return std::nullopt;
  const auto* buf = reinterpret_cast<const unsigned char*>(jose.data());
  std::unique_ptr<ECDSA_SIG, EcdsaSigDeleter> sig(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(buf, kEs256PartBytes, nullptr);
  BIGNUM* s = BN_bin2bn(buf + kEs256PartBytes, kEs256PartBytes, nullptr);
  if (!sig || r == nullptr || s == nullptr || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return std::nullopt;
  }
  const int len = i2d_ECDSA_SIG(sig.get(), nullptr);
  if (len <= 0) return std::nullopt;
  std::string der(static_cast<std::size_t>(len), '\0');
  auto* out = reinterpret_cast<unsigned char*>(der.data());
  i2d_ECDSA_SIG(sig.get(), &out);
  return der;
}

std::string digest_sign(EVP_PKEY* key, std::string_view data) {
  std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx(EVP_MD_CTX_new());
  std::size_t len = 0;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(data.data()),
                     data.size()) != 1) {
    throw JwtError("bad_key", "signing failed");
  }
  std::string out(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len,
                     reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1) {
    throw JwtError("bad_key", "signing failed");
  }
  out.resize(len);
  return out;
}

bool digest_verify(EVP_PKEY* key, std::string_view data, std::string_view signature) {
  std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) != 1)
    return false;
  return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                          signature.size(), reinterpret_cast<const unsigned char*>(data.data()),
                          data.size()) == 1;
}

bool signature_matches(const Key& key, std::string_view signing_input, std::string_view signature) {
  if (key.algorithm == Algorithm::kHS256) {
    const std::string expected = hmac_sha256(key.material, signing_input);
    return expected.size() == signature.size() &&
           CRYPTO_memcmp(expected.data(), signature.data(), expected.size()) == 0;
  }
  PkeyPtr pkey = cached_pem(key.material, false);
  if (!pkey || !key_fits(pkey.get(), key.algorithm)) return false;
  if (key.algorithm == Algorithm::kES256) {
    auto der = jose_to_der(signature);
    return der && digest_verify(pkey.get(), signing_input, *der);
  }
  return digest_verify(pkey.get(), signing_input, signature);
}

nlohmann::json decode_json_segment(std::string_view segment, int index) {
  auto bytes = base64url_decode(segment);
  if (!bytes) throw JwtError("malformed", std::string(segment_name(index)) + " is not base64url");
  nlohmann::json value = nlohmann::json::parse(*bytes, nullptr, false);
  if (value.is_discarded() || !value.is_object()) {
    throw JwtError("malformed", std::string(segment_name(index)) + " is not a JSON object");
  }
  return value;
}

// A NumericDate claim as seconds since the epoch; nullopt when absent; throws when not a number.
std::optional<double> numeric_date(const nlohmann::json& claims, const char* name) {
  auto it = claims.find(name);
  if (it == claims.end() || it->is_null()) return std::nullopt;
  if (!it->is_number() || !std::isfinite(it->get<double>())) {
    throw JwtError("malformed", std::string(name) + " is not a number");
  }
  return it->get<double>();
}

}  // namespace

std::string_view algorithm_name(Algorithm algorithm) {
  switch (algorithm) {
    case Algorithm::kHS256:
      return "HS256";
    case Algorithm::kRS256:
      return "RS256";
    case Algorithm::kES256:
      return "ES256";
  }
  return "";
}

std::optional<Algorithm> parse_algorithm(std::string_view name) {
  if (name == "HS256") return Algorithm::kHS256;
  if (name == "RS256") return Algorithm::kRS256;
  if (name == "ES256") return Algorithm::kES256;
  return std::nullopt;
}

std::string base64url_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() * 4 + 2) / 3);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t n = (static_cast<unsigned char>(bytes[i]) << 16) |
                            (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                            static_cast<unsigned char>(bytes[i + 2]);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
  }
  const std::size_t rest = bytes.size() - i;
  if (rest > 0) {
    std::uint32_t n = static_cast<unsigned char>(bytes[i]) << 16;
    if (rest == 2) n |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    if (rest == 2) out += kAlphabet[(n >> 6) & 63];
  }
  return out;
}

std::optional<std::string> base64url_decode(std::string_view text) {
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  if (text.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(text.size() * 3 / 4);
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    int v;
    if (c >= 'A' && c <= 'Z')
      v = c - 'A';
    else if (c >= 'a' && c <= 'z')
      v = c - 'a' + 26;
    else if (c >= '0' && c <= '9')
      v = c - '0' + 52;
    else if (c == '-')
      v = 62;
    else if (c == '_')
      v = 63;
    else
      return std::nullopt;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  // Leftover bits must be zero, so that each token has exactly one encoding.
  if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

void check_key(const Key& key, bool for_signing) {
  if (key.algorithm == Algorithm::kHS256) {
    if (key.material.empty()) throw JwtError("bad_key", "empty HS256 secret");
    return;
  }
  PkeyPtr pkey = cached_pem(key.material, for_signing);
  if (!pkey)
    throw JwtError("bad_key",
                   for_signing ? "not a PEM private key" : "not a PEM key or certificate");
  if (!key_fits(pkey.get(), key.algorithm)) {
    throw JwtError("bad_key",
                   std::string("key does not fit ") + std::string(algorithm_name(key.algorithm)));
  }
}

std::string sign(const nlohmann::json& claims, const Key& key) {
  if (!claims.is_object()) throw JwtError("malformed", "claims must be a JSON object");
  nlohmann::json header = {{"alg", algorithm_name(key.algorithm)}, {"typ", "JWT"}};
  if (!key.key_id.empty()) header["kid"] = key.key_id;
  const std::string signing_input =
      base64url_encode(header.dump()) + "." + base64url_encode(claims.dump());
  std::string signature;
  if (key.algorithm == Algorithm::kHS256) {
    signature = hmac_sha256(key.material, signing_input);
  } else {
    PkeyPtr pkey = cached_pem(key.material, true);
    if (!pkey) throw JwtError("bad_key", "not a PEM private key");
    if (!key_fits(pkey.get(), key.algorithm)) {
      throw JwtError("bad_key",
                     std::string("key does not fit ") + std::string(algorithm_name(key.algorithm)));
    }
    signature = digest_sign(pkey.get(), signing_input);
    if (key.algorithm == Algorithm::kES256) signature = der_to_jose(signature);
  }
  return signing_input + "." + base64url_encode(signature);
}

nlohmann::json verify(std::string_view token, const std::vector<Key>& keys,
                      const VerifyOptions& options) {
  const std::size_t first = token.find('.');
  const std::size_t second = first == std::string_view::npos ? first : token.find('.', first + 1);
  if (first == std::string_view::npos || second == std::string_view::npos ||
      token.find('.', second + 1) != std::string_view::npos) {
    throw JwtError("malformed", "a JWT has three dot-separated segments");
  }
  const nlohmann::json header = decode_json_segment(token.substr(0, first), 0);
  nlohmann::json claims = decode_json_segment(token.substr(first + 1, second - first - 1), 1);
  const auto signature = base64url_decode(token.substr(second + 1));
  if (!signature) throw JwtError("malformed", "signature is not base64url");

  auto alg_it = header.find("alg");
  if (alg_it == header.end() || !alg_it->is_string())
    throw JwtError("malformed", "header has no alg");
  const auto algorithm = parse_algorithm(alg_it->get<std::string>());
  if (!algorithm)
    throw JwtError("alg_not_allowed", "alg " + alg_it->get<std::string>() + " is refused");
  std::string kid;
  if (auto kid_it = header.find("kid"); kid_it != header.end() && kid_it->is_string())
    kid = *kid_it;

  const std::string_view signing_input = token.substr(0, second);
  bool any_key = false;
  bool verified = false;
  for (const Key& key : keys) {
    if (key.algorithm != *algorithm) continue;
    if (!kid.empty() && !key.key_id.empty() && kid != key.key_id) continue;
    any_key = true;
    if (signature_matches(key, signing_input, *signature)) {
      verified = true;
      break;
    }
  }
  if (!any_key) {
    throw JwtError("alg_not_allowed", "no key for alg " + std::string(algorithm_name(*algorithm)));
  }
  if (!verified) throw JwtError("bad_signature", "");

  const auto now_point = options.now == std::chrono::system_clock::time_point{}
                             ? std::chrono::system_clock::now()
                             : options.now;
  const double now = std::chrono::duration<double>(now_point.time_since_epoch()).count();
  const double leeway = static_cast<double>(options.leeway.count());
  if (auto exp = numeric_date(claims, "exp"); exp && now > *exp + leeway) {
    throw JwtError("expired", "");
  }
  if (auto nbf = numeric_date(claims, "nbf"); nbf && now + leeway < *nbf) {
    throw JwtError("not_yet_valid", "");
  }
  return claims;
}

}  // namespace shared::jwt
