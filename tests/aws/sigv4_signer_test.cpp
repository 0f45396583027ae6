// SigV4 against the official suite (awslabs/aws-c-auth, vectors under tests/aws/vectors/sigv4)
// and the Bedrock cases hand-written clients get wrong.
#include "shared/aws/sigv4_signer.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace fs = std::filesystem;
using namespace shared::aws;

namespace {

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

fs::path vectors_dir() {
  const char* src = std::getenv("SUITE_SOURCE_DIR");
  return fs::path(src ? src : AWS_TEST_SOURCE_DIR) / "tests/aws/vectors/sigv4";
}

std::chrono::system_clock::time_point suite_time() {
  return std::chrono::system_clock::from_time_t(1440938160);  // 2015-08-30T12:36:00Z
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

struct SuiteCase {
  SignableRequest request;
  SigningParams params;
  std::string expected_authorization;
};

// Reads header-signed-request.txt: the request as the suite signed it. What the signer adds itself
// (Authorization, X-Amz-Date, a signed X-Amz-Security-Token or x-amz-content-sha256) is taken
// out and becomes the expectation and the signing parameters.
SuiteCase load_case(const fs::path& dir) {
  SuiteCase c;
  c.params.region = "us-east-1";
  c.params.service = "service";
  c.params.credentials = {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "", std::nullopt};
  c.params.time = suite_time();
  c.params.normalize_path = dir.filename().string().find("-unnormalized") == std::string::npos;
  if (fs::exists(dir / "context.json")) {
    auto ctx = nlohmann::json::parse(read_file(dir / "context.json"));
    c.params.normalize_path = ctx.value("normalize", true);
    if (ctx.contains("signed_body_value")) c.params.payload_hash = ctx["signed_body_value"].get<std::string>();
  }

  const std::string text = read_file(dir / "header-signed-request.txt");
  const size_t blank = text.find("\n\n");
  const std::string head = text.substr(0, blank);
  std::string body = blank == std::string::npos ? "" : text.substr(blank + 2);

  std::istringstream lines(head);
  std::string line;
  std::getline(lines, line);
  const size_t sp1 = line.find(' ');
  const size_t sp2 = line.rfind(' ');
  c.request.method = line.substr(0, sp1);
  const std::string target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const size_t q = target.find('?');
  c.request.path = target.substr(0, q);
  c.request.query = q == std::string::npos ? "" : target.substr(q + 1);

  shared::http::HeaderList headers;
  while (std::getline(lines, line)) {
    if (!line.empty() && (line[0] == ' ' || line[0] == '\t')) {
      // A folded line is one more value of the same header, as the suite reads it.
      headers.emplace_back(headers.back().first, line);
      continue;
    }
    const size_t colon = line.find(':');
    headers.emplace_back(line.substr(0, colon), line.substr(colon + 1));
  }
  std::string signed_headers;
  for (const auto& [k, v] : headers)
    if (lower(k) == "authorization") {
      c.expected_authorization = v;
      const size_t b = v.find("SignedHeaders=") + 14;
      signed_headers = ";" + v.substr(b, v.find(',', b) - b) + ";";
    }
  for (const auto& [k, v] : headers) {
    const std::string name = lower(k);
    if (name == "authorization" || name == "x-amz-date") continue;
    if (name == "x-amz-security-token") {
      if (signed_headers.find(";x-amz-security-token;") != std::string::npos) c.params.credentials.session_token = v;
      continue;
    }
    if (name == "x-amz-content-sha256") {
      if (signed_headers.find(";x-amz-content-sha256;") != std::string::npos) c.params.add_content_sha256_header = true;
      continue;
    }
    c.request.headers.emplace_back(k, v);
  }
  for (const auto& [k, v] : c.request.headers)
    if (lower(k) == "content-length") body.resize(std::min<size_t>(body.size(), std::stoul(v)));
  c.request.body = body;
  return c;
}

std::vector<std::string> case_names() {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(vectors_dir()))
    if (entry.is_directory() && fs::exists(entry.path() / "header-signed-request.txt"))
      names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

TEST(SigV4Suite, EveryStoredCaseIsPresent) {
  // Guards against the vectors folder silently going missing (the parameterised test would then
  // run zero cases).
  EXPECT_GE(case_names().size(), 35u);
}

class SigV4SuiteCase : public ::testing::TestWithParam<std::string> {};

TEST_P(SigV4SuiteCase, SignsExactlyAsTheSuite) {
  SuiteCase c = load_case(vectors_dir() / GetParam());
  ASSERT_FALSE(c.expected_authorization.empty());
  SigningResult r = SigV4Signer::sign(c.request, c.params);
  EXPECT_EQ(r.authorization, c.expected_authorization) << "canonical request:\n" << r.canonical_request;
}

INSTANTIATE_TEST_SUITE_P(AwsCAuthV4, SigV4SuiteCase, ::testing::ValuesIn(case_names()),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (auto& ch : n)
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           return n;
                         });

namespace {

struct PresignCase {
  SignableRequest request;
  SigningParams params;
  std::chrono::seconds expires{0};
  std::string expected_signature;
};

// Reads query-signed-request.txt: the request line's query holds the suite's X-Amz-* parameters
// (taken out: they are what presigning adds) and X-Amz-Signature (the expectation). Headers not
// named in X-Amz-SignedHeaders (the suite's X-Amz-Date line) are dropped.
PresignCase load_presign_case(const fs::path& dir) {
  PresignCase c;
  SuiteCase base = load_case(dir);  // context: credentials, normalization
  c.params = base.params;
  c.params.credentials.session_token.clear();
  const std::string text = read_file(dir / "query-signed-request.txt");
  const size_t blank = text.find("\n\n");
  std::istringstream lines(text.substr(0, blank));
  std::string line;
  std::getline(lines, line);
  const size_t sp1 = line.find(' ');
  const size_t sp2 = line.rfind(' ');
  c.request.method = line.substr(0, sp1);
  const std::string target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const size_t q = target.find('?');
  c.request.path = target.substr(0, q);
  std::string signed_headers;
  std::istringstream params(q == std::string::npos ? "" : target.substr(q + 1));
  std::string param;
  while (std::getline(params, param, '&')) {
    const size_t eq = param.find('=');
    const std::string key = param.substr(0, eq), value = eq == std::string::npos ? "" : param.substr(eq + 1);
    if (key == "X-Amz-Signature") c.expected_signature = value;
    else if (key == "X-Amz-Expires") c.expires = std::chrono::seconds(std::stol(value));
    else if (key == "X-Amz-Security-Token") c.params.credentials.session_token = value;
    else if (key == "X-Amz-SignedHeaders") signed_headers = ";" + value + ";";
    else if (key.rfind("X-Amz-", 0) != 0) c.request.query += (c.request.query.empty() ? "" : "&") + param;
  }
  for (size_t p; (p = signed_headers.find("%3B")) != std::string::npos;) signed_headers.replace(p, 3, ";");
  std::string last_name;
  while (std::getline(lines, line)) {
    std::string name, value;
    if (!line.empty() && (line[0] == ' ' || line[0] == '\t')) {
      name = last_name;
      value = line;
    } else {
      const size_t colon = line.find(':');
      name = line.substr(0, colon);
      value = line.substr(colon + 1);
    }
    last_name = name;
    if (signed_headers.find(";" + lower(name) + ";") != std::string::npos) c.request.headers.emplace_back(name, value);
  }
  c.request.body = blank == std::string::npos ? "" : text.substr(blank + 2);
  return c;
}

std::vector<std::string> presign_case_names() {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(vectors_dir()))
    if (entry.is_directory() && fs::exists(entry.path() / "query-signed-request.txt"))
      names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

TEST(SigV4PresignSuite, StoredCasesArePresent) { EXPECT_GE(presign_case_names().size(), 15u); }

class SigV4PresignCase : public ::testing::TestWithParam<std::string> {};

TEST_P(SigV4PresignCase, PresignsExactlyAsTheSuite) {
  PresignCase c = load_presign_case(vectors_dir() / GetParam());
  ASSERT_FALSE(c.expected_signature.empty());
  std::string query;
  SigningResult r = SigV4Signer::presign(c.request, c.params, c.expires, query);
  EXPECT_EQ(r.signature, c.expected_signature) << "canonical request:\n" << r.canonical_request;
  EXPECT_NE(query.find("X-Amz-Signature=" + c.expected_signature), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(AwsCAuthV4Query, SigV4PresignCase, ::testing::ValuesIn(presign_case_names()),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (auto& ch : n)
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           return n;
                         });

TEST(SigV4Signer, CanonicalRequestOfVanillaGetMatchesTheSuite) {
  SignableRequest r{"GET", "/", "", {{"Host", "example.amazonaws.com"}}, ""};
  SigningParams p{"us-east-1", "service", {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "", {}},
                  suite_time()};
  SigningResult s = SigV4Signer::sign(r, p);
  EXPECT_EQ(s.canonical_request,
            "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(s.string_to_sign,
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
            "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");
  EXPECT_EQ(s.signature, "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
}

TEST(SigV4Signer, BedrockModelIdColonIsEncodedTwiceInTheCanonicalUri) {
  // On the wire the model id's ':' is %3A; the canonical URI encodes the path again.
  EXPECT_EQ(SigV4Signer::canonical_uri("/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse-stream", true),
            "/model/anthropic.claude-3-5-sonnet-20240620-v1%253A0/converse-stream");
}

TEST(SigV4Signer, InferenceProfileArnIsEncodedTwice) {
  const std::string wire =
      "/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-profile%2Fus.anthropic.claude-3-5-sonnet-"
      "20240620-v1%3A0/converse";
  EXPECT_EQ(SigV4Signer::canonical_uri(wire, true),
            "/model/arn%253Aaws%253Abedrock%253Aus-east-1%253A123456789012%253Ainference-profile%252Fus.anthropic."
            "claude-3-5-sonnet-20240620-v1%253A0/converse");
}

TEST(SigV4Signer, BedrockRequestUsesTheBedrockSigningNameAndSessionToken) {
  SignableRequest r{"POST", "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse", "",
                    {{"Host", "bedrock-runtime.us-west-2.amazonaws.com"}, {"Content-Type", "application/json"}},
                    "{\"messages\":[]}"};
  SigningParams p{"us-west-2", "bedrock", {"AKID", "SECRET", "TOKEN", {}}, suite_time()};
  SigningResult s = SigV4Signer::sign(r, p);
  EXPECT_NE(s.authorization.find("Credential=AKID/20150830/us-west-2/bedrock/aws4_request"), std::string::npos);
  EXPECT_NE(s.authorization.find("SignedHeaders=content-type;host;x-amz-date;x-amz-security-token"),
            std::string::npos);
  EXPECT_NE(s.canonical_request.find("\n/model/anthropic.claude-3-haiku-20240307-v1%253A0/converse\n"),
            std::string::npos);
  bool has_token = false;
  for (const auto& [k, v] : r.headers) has_token |= (k == "X-Amz-Security-Token" && v == "TOKEN");
  EXPECT_TRUE(has_token);
}

TEST(SigV4Signer, UserAgentAndAuthorizationAreNotSigned) {
  SignableRequest r{"GET", "/", "", {{"Host", "h"}, {"User-Agent", "x"}, {"Authorization", "old"}}, ""};
  SigningParams p{"us-east-1", "s", {"A", "B", "", {}}, suite_time()};
  SigningResult s = SigV4Signer::sign(r, p);
  EXPECT_NE(s.authorization.find("SignedHeaders=host;x-amz-date,"), std::string::npos);
  int authorization_headers = 0;
  for (const auto& [k, v] : r.headers) authorization_headers += (k == "Authorization");
  EXPECT_EQ(authorization_headers, 1);
}
