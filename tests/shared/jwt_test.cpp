// Specification of shared::jwt: round trips, tampering, algorithm confusion, time claims and
// malformed tokens.
#include "shared/jwt.h"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <memory>

namespace {

using shared::jwt::Algorithm;
using shared::jwt::JwtError;
using shared::jwt::Key;
using namespace std::chrono_literals;

struct KeyPair {
  std::string private_pem;
  std::string public_pem;
};

KeyPair pem_pair(EVP_PKEY* pkey) {
  auto to_string = [](BIO* bio) {
    char* data = nullptr;
    const long len = BIO_get_mem_data(bio, &data);
    return std::string(data, static_cast<std::size_t>(len));
  };
  KeyPair pair;
  BIO* priv = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(priv, pkey, nullptr, nullptr, 0, nullptr, nullptr);
  pair.private_pem = to_string(priv);
  BIO_free(priv);
  BIO* pub = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(pub, pkey);
  pair.public_pem = to_string(pub);
  BIO_free(pub);
  EVP_PKEY_free(pkey);
  return pair;
}

const KeyPair& rsa_keys() {
  static const KeyPair keys = pem_pair(EVP_RSA_gen(2048));
  return keys;
}
const KeyPair& ec_keys() {
  static const KeyPair keys = pem_pair(EVP_EC_gen("P-256"));
  return keys;
}

std::string reason_of(const std::string& token, const std::vector<Key>& keys,
                      shared::jwt::VerifyOptions options = {}) {
  try {
    shared::jwt::verify(token, keys, options);
  } catch (const JwtError& e) {
    return e.reason();
  }
  return "accepted";
}

std::vector<std::string> segments(const std::string& token) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (;;) {
    const std::size_t dot = token.find('.', start);
    parts.push_back(token.substr(start, dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return parts;
}

const nlohmann::json kClaims = {{"mercure", {{"publish", {"*"}}}}, {"sub", "user-1"}};

TEST(JwtBase64url, EncodesWithoutPaddingAndRoundTrips) {
  EXPECT_EQ(shared::jwt::base64url_encode(""), "");
  EXPECT_EQ(shared::jwt::base64url_encode("f"), "Zg");
  EXPECT_EQ(shared::jwt::base64url_encode("fo"), "Zm8");
  EXPECT_EQ(shared::jwt::base64url_encode("foo"), "Zm9v");
  EXPECT_EQ(shared::jwt::base64url_encode("\xfb\xff"), "-_8");
  for (std::string s : {"", "a", "ab", "abc", "abcd", "\x00\xff\x10 binary"}) {
    EXPECT_EQ(shared::jwt::base64url_decode(shared::jwt::base64url_encode(s)), s);
  }
  EXPECT_EQ(shared::jwt::base64url_decode("Zm8="), "fo");
}

TEST(JwtBase64url, RejectsCharactersOutsideTheAlphabetAndImpossibleLengths) {
  EXPECT_EQ(shared::jwt::base64url_decode("Zm9v+"), std::nullopt);
  EXPECT_EQ(shared::jwt::base64url_decode("Zm/v"), std::nullopt);
  EXPECT_EQ(shared::jwt::base64url_decode("Zm9 v"), std::nullopt);
  EXPECT_EQ(shared::jwt::base64url_decode("Z"), std::nullopt);
  EXPECT_EQ(shared::jwt::base64url_decode("Zh"), std::nullopt);  // non-zero leftover bits
}

TEST(Jwt, Hs256RoundTripReturnsTheClaims) {
  const Key key{Algorithm::kHS256, "!ChangeThisMercureHubJWTSecretKey!", ""};
  const std::string token = shared::jwt::sign(kClaims, key);
  EXPECT_EQ(segments(token).size(), 3u);
  EXPECT_EQ(shared::jwt::verify(token, {key}), kClaims);
}

TEST(Jwt, Hs256HeaderNamesAlgorithmTypeAndKid) {
  const Key key{Algorithm::kHS256, "secret", "key-7"};
  const auto header = nlohmann::json::parse(
      *shared::jwt::base64url_decode(segments(shared::jwt::sign(kClaims, key))[0]));
  EXPECT_EQ(header, (nlohmann::json{{"alg", "HS256"}, {"typ", "JWT"}, {"kid", "key-7"}}));
}

TEST(Jwt, Rs256RoundTripWithPublicKey) {
  const std::string token =
      shared::jwt::sign(kClaims, {Algorithm::kRS256, rsa_keys().private_pem, ""});
  EXPECT_EQ(shared::jwt::verify(token, {{Algorithm::kRS256, rsa_keys().public_pem, ""}}), kClaims);
}

TEST(Jwt, Es256RoundTripWithJoseSignature) {
  const std::string token =
      shared::jwt::sign(kClaims, {Algorithm::kES256, ec_keys().private_pem, ""});
  EXPECT_EQ(shared::jwt::base64url_decode(segments(token)[2])->size(), 64u);
  EXPECT_EQ(shared::jwt::verify(token, {{Algorithm::kES256, ec_keys().public_pem, ""}}), kClaims);
}

TEST(Jwt, Es256SignatureInDerFormIsRefused) {
  // Re-sign the same input with OpenSSL directly: a DER signature (70-72 bytes) must not pass.
  const std::string token =
      shared::jwt::sign(kClaims, {Algorithm::kES256, ec_keys().private_pem, ""});
  const auto parts = segments(token);
  const std::string input = parts[0] + "." + parts[1];
  BIO* bio =
      BIO_new_mem_buf(ec_keys().private_pem.data(), static_cast<int>(ec_keys().private_pem.size()));
  EVP_PKEY* pkey = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  std::size_t len = 0;
  EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, pkey);
  EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()),
                 input.size());
  std::string der(len, '\0');
  EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(der.data()), &len,
                 reinterpret_cast<const unsigned char*>(input.data()), input.size());
  der.resize(len);
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(pkey);
  ASSERT_NE(der.size(), 64u);
  const std::string der_token = input + "." + shared::jwt::base64url_encode(der);
  EXPECT_EQ(reason_of(der_token, {{Algorithm::kES256, ec_keys().public_pem, ""}}), "bad_signature");
}

TEST(Jwt, TamperedPayloadIsRefused) {
  const Key key{Algorithm::kHS256, "secret", ""};
  auto parts = segments(shared::jwt::sign(kClaims, key));
  parts[1] = shared::jwt::base64url_encode(R"({"mercure":{"publish":["*"]},"sub":"admin"})");
  EXPECT_EQ(reason_of(parts[0] + "." + parts[1] + "." + parts[2], {key}), "bad_signature");
}

TEST(Jwt, TamperedSignatureIsRefusedForEveryAlgorithm) {
  const std::vector<std::pair<Key, Key>> pairs = {
      {{Algorithm::kHS256, "secret", ""}, {Algorithm::kHS256, "secret", ""}},
      {{Algorithm::kRS256, rsa_keys().private_pem, ""},
       {Algorithm::kRS256, rsa_keys().public_pem, ""}},
      {{Algorithm::kES256, ec_keys().private_pem, ""},
       {Algorithm::kES256, ec_keys().public_pem, ""}},
  };
  for (const auto& [signer, verifier] : pairs) {
    auto parts = segments(shared::jwt::sign(kClaims, signer));
    std::string sig = *shared::jwt::base64url_decode(parts[2]);
    sig[sig.size() / 2] ^= 0x01;
    EXPECT_EQ(
        reason_of(parts[0] + "." + parts[1] + "." + shared::jwt::base64url_encode(sig), {verifier}),
        "bad_signature");
  }
}

TEST(Jwt, WrongSecretIsRefused) {
  const std::string token = shared::jwt::sign(kClaims, {Algorithm::kHS256, "secret", ""});
  EXPECT_EQ(reason_of(token, {{Algorithm::kHS256, "other", ""}}), "bad_signature");
}

TEST(Jwt, AlgorithmNotAmongTheKeysIsRefused) {
  const std::string token = shared::jwt::sign(kClaims, {Algorithm::kHS256, "secret", ""});
  EXPECT_EQ(reason_of(token, {{Algorithm::kRS256, rsa_keys().public_pem, ""}}), "alg_not_allowed");
}

TEST(Jwt, RsaPublicKeyUsedAsHmacSecretIsRefused) {
  // The classic confusion attack: the attacker signs HS256 with the public PEM as the secret and
  // hopes the verifier picks the algorithm from the token.
  const std::string forged =
      shared::jwt::sign(kClaims, {Algorithm::kHS256, rsa_keys().public_pem, ""});
  EXPECT_EQ(reason_of(forged, {{Algorithm::kRS256, rsa_keys().public_pem, ""}}), "alg_not_allowed");
}

TEST(Jwt, RsaKeyConfiguredForEs256DoesNotVerify) {
  const std::string token =
      shared::jwt::sign(kClaims, {Algorithm::kRS256, rsa_keys().private_pem, ""});
  const auto parts = segments(token);
  const std::string relabeled = shared::jwt::base64url_encode(R"({"alg":"ES256","typ":"JWT"})") +
                                "." + parts[1] + "." + parts[2];
  EXPECT_EQ(reason_of(relabeled, {{Algorithm::kES256, rsa_keys().public_pem, ""}}),
            "bad_signature");
  EXPECT_THROW(shared::jwt::sign(kClaims, {Algorithm::kES256, rsa_keys().private_pem, ""}),
               JwtError);
}

TEST(Jwt, AlgNoneIsRefusedEvenWithoutSignature) {
  const std::string header = shared::jwt::base64url_encode(R"({"alg":"none","typ":"JWT"})");
  const std::string payload = shared::jwt::base64url_encode(kClaims.dump());
  EXPECT_EQ(reason_of(header + "." + payload + ".", {{Algorithm::kHS256, "secret", ""}}),
            "alg_not_allowed");
  const std::string lower = shared::jwt::base64url_encode(R"({"alg":"None"})");
  EXPECT_EQ(reason_of(lower + "." + payload + ".", {{Algorithm::kHS256, "secret", ""}}),
            "alg_not_allowed");
}

TEST(Jwt, KidSelectsTheMatchingKey) {
  const Key a{Algorithm::kHS256, "secret-a", "a"};
  const Key b{Algorithm::kHS256, "secret-b", "b"};
  EXPECT_EQ(shared::jwt::verify(shared::jwt::sign(kClaims, b), {a, b}), kClaims);
  const std::string token_claiming_a =
      shared::jwt::sign(kClaims, {Algorithm::kHS256, "secret-b", "a"});
  EXPECT_EQ(reason_of(token_claiming_a, {a, b}), "bad_signature");
}

TEST(Jwt, ExpiredTokenIsRefusedOutsideTheLeeway) {
  const Key key{Algorithm::kHS256, "secret", ""};
  const auto now = std::chrono::system_clock::time_point(1'700'000'000s);
  const std::string token = shared::jwt::sign({{"exp", 1'700'000'000 - 20}}, key);
  EXPECT_EQ(reason_of(token, {key}, {30s, now}), "accepted");
  EXPECT_EQ(reason_of(token, {key}, {10s, now}), "expired");
  EXPECT_EQ(reason_of(token, {key}, {0s, now}), "expired");
}

TEST(Jwt, NotYetValidTokenIsRefusedOutsideTheLeeway) {
  const Key key{Algorithm::kHS256, "secret", ""};
  const auto now = std::chrono::system_clock::time_point(1'700'000'000s);
  const std::string token = shared::jwt::sign({{"nbf", 1'700'000'000 + 20}}, key);
  EXPECT_EQ(reason_of(token, {key}, {30s, now}), "accepted");
  EXPECT_EQ(reason_of(token, {key}, {0s, now}), "not_yet_valid");
}

TEST(Jwt, ExpiryUsesTheSystemClockByDefault) {
  const Key key{Algorithm::kHS256, "secret", ""};
  EXPECT_EQ(reason_of(shared::jwt::sign({{"exp", 1000}}, key), {key}), "expired");
  const auto future = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count() +
                      3600;
  EXPECT_EQ(reason_of(shared::jwt::sign({{"exp", future}}, key), {key}), "accepted");
}

TEST(Jwt, NonNumericExpIsMalformed) {
  const Key key{Algorithm::kHS256, "secret", ""};
  EXPECT_EQ(reason_of(shared::jwt::sign({{"exp", "tomorrow"}}, key), {key}), "malformed");
}

TEST(Jwt, MalformedTokensAreRefusedWithoutCrashing) {
  const Key key{Algorithm::kHS256, "secret", ""};
  const std::string good = shared::jwt::sign(kClaims, key);
  const auto parts = segments(good);
  const std::string array_payload = shared::jwt::base64url_encode("[1,2]");
  const std::string bad_json = shared::jwt::base64url_encode("{\"alg\":");
  for (const std::string& token :
       {std::string(""), std::string("."), std::string("abc"), parts[0] + "." + parts[1],
        good + ".extra", parts[0] + ".!!!." + parts[2], parts[0] + "." + parts[1] + ".@@",
        parts[0] + "." + array_payload + "." + parts[2], bad_json + "." + parts[1] + "." + parts[2],
        shared::jwt::base64url_encode("\"HS256\"") + "." + parts[1] + "." + parts[2],
        shared::jwt::base64url_encode("{\"typ\":\"JWT\"}") + "." + parts[1] + "." + parts[2]}) {
    EXPECT_EQ(reason_of(token, {key}), "malformed") << token;
  }
}

TEST(Jwt, SigningNonObjectClaimsOrWithABadPemThrows) {
  EXPECT_THROW(shared::jwt::sign(nlohmann::json::array(), {Algorithm::kHS256, "s", ""}), JwtError);
  EXPECT_THROW(shared::jwt::sign(kClaims, {Algorithm::kRS256, "not a pem", ""}), JwtError);
  EXPECT_THROW(shared::jwt::sign(kClaims, {Algorithm::kRS256, rsa_keys().public_pem, ""}),
               JwtError);
}

TEST(Jwt, GarbagePemForVerificationRefusesRatherThanThrowingSomethingElse) {
  const std::string token =
      shared::jwt::sign(kClaims, {Algorithm::kRS256, rsa_keys().private_pem, ""});
  EXPECT_EQ(reason_of(token, {{Algorithm::kRS256,
                               "-----BEGIN PUBLIC KEY-----\nxx\n-----END PUBLIC KEY-----\n", ""}}),
            "bad_signature");
}

}  // namespace

namespace {

TEST(JwtCheckKey, AcceptsUsableKeysAndRefusesOthers) {
  using shared::jwt::check_key;
  EXPECT_NO_THROW(check_key({Algorithm::kHS256, "secret", ""}));
  EXPECT_NO_THROW(check_key({Algorithm::kRS256, rsa_keys().public_pem, ""}));
  EXPECT_NO_THROW(check_key({Algorithm::kES256, ec_keys().public_pem, ""}));
  EXPECT_NO_THROW(check_key({Algorithm::kES256, ec_keys().private_pem, ""}, true));
  EXPECT_THROW(check_key({Algorithm::kHS256, "", ""}), JwtError);
  EXPECT_THROW(check_key({Algorithm::kRS256, "garbage", ""}), JwtError);
  EXPECT_THROW(check_key({Algorithm::kRS256, ec_keys().public_pem, ""}), JwtError);
  EXPECT_THROW(check_key({Algorithm::kES256, rsa_keys().public_pem, ""}), JwtError);
  EXPECT_THROW(check_key({Algorithm::kRS256, rsa_keys().public_pem, ""}, true), JwtError);
}

}  // namespace
