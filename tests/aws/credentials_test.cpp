// The credential chain: order, caching and refresh before expiry, and the error naming what was
// tried; the HTTP sources against in-process servers.
#include "shared/aws/credentials.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "local_server.h"

using namespace shared::aws;
using namespace std::chrono_literals;

namespace {

class CountingSource : public CredentialsSource {
 public:
  CountingSource(std::string name, std::optional<Credentials> answer)
      : name_(std::move(name)), answer_(answer) {}
  std::string name() const override { return name_; }
  std::optional<Credentials> find(std::string& skipped) override {
    ++calls;
    if (fail) throw CredentialsError("endpoint down");
    if (!answer_) skipped = "not configured";
    return answer_;
  }
  int calls = 0;
  bool fail = false;

 private:
  std::string name_;

 public:
  std::optional<Credentials> answer_;
};

std::filesystem::path temp_dir(const std::string& name) {
  auto d = std::filesystem::temp_directory_path() / (name + "-" + std::to_string(::getpid()));
  std::filesystem::create_directories(d);
  return d;
}

}  // namespace

TEST(CredentialsChain, FirstConfiguredSourceWinsAndIsCached) {
  std::vector<std::unique_ptr<CredentialsSource>> sources;
  auto* a = new CountingSource("environment", std::nullopt);
  auto* b = new CountingSource("profile default", Credentials{"AK", "SK", "", std::nullopt});
  sources.emplace_back(a);
  sources.emplace_back(b);
  CredentialsChain chain(std::move(sources));
  EXPECT_EQ(chain.get().access_key_id, "AK");
  EXPECT_EQ(chain.get().access_key_id, "AK");
  EXPECT_EQ(b->calls, 1);  // no expiration: cached for good
  EXPECT_EQ(chain.active_source(), "profile default");
}

TEST(CredentialsChain, RefreshesFiveMinutesBeforeExpiration) {
  auto now = std::chrono::system_clock::from_time_t(1'700'000'000);
  std::vector<std::unique_ptr<CredentialsSource>> sources;
  auto* s = new CountingSource("container", Credentials{"AK1", "SK", "T", now + 10min});
  sources.emplace_back(s);
  CredentialsChain chain(std::move(sources), 5min, [&] { return now; });
  EXPECT_EQ(chain.get().access_key_id, "AK1");
  now += 4min;
  chain.get();
  EXPECT_EQ(s->calls, 1);
  now += 2min;  // 4 minutes left: inside the refresh window
  s->answer_ = Credentials{"AK2", "SK", "T", now + 60min};
  EXPECT_EQ(chain.get().access_key_id, "AK2");
  EXPECT_EQ(s->calls, 2);
}

TEST(CredentialsChain, FailedRefreshKeepsStillValidCredentials) {
  auto now = std::chrono::system_clock::from_time_t(1'700'000'000);
  std::vector<std::unique_ptr<CredentialsSource>> sources;
  auto* s = new CountingSource("imds", Credentials{"AK1", "SK", "T", now + 10min});
  sources.emplace_back(s);
  CredentialsChain chain(std::move(sources), 5min, [&] { return now; });
  chain.get();
  now += 7min;
  s->fail = true;
  EXPECT_EQ(chain.get().access_key_id, "AK1");
  now += 4min;  // now expired
  EXPECT_THROW(chain.get(), CredentialsError);
}

TEST(CredentialsChain, ErrorNamesEveryProviderTried) {
  AwsSettings s;
  s.home = "/nonexistent";
  s.ec2_metadata_disabled = true;
  shared::http::HttpClient http;
  auto chain = make_default_credentials_chain(s, http);
  try {
    chain->get();
    FAIL();
  } catch (const CredentialsError& e) {
    const std::string m = e.what();
    for (const char* name : {"environment", "profile default", "web identity", "container", "imds"})
      EXPECT_NE(m.find(name), std::string::npos) << m;
  }
}

TEST(CredentialsChain, EnvironmentComesBeforeProfile) {
  auto dir = temp_dir("aws-cred-env");
  std::ofstream(dir / "credentials")
      << "[default]\naws_access_key_id=FILEKEY\naws_secret_access_key=FILESECRET\n";
  AwsSettings s;
  s.shared_credentials_file = (dir / "credentials").string();
  s.config_file = (dir / "none").string();
  shared::http::HttpClient http;
  s.access_key_id = "ENVKEY";
  s.secret_access_key = "ENVSECRET";
  s.session_token = "ENVTOKEN";
  auto c = make_default_credentials_chain(s, http)->get();
  EXPECT_EQ(c.access_key_id, "ENVKEY");
  EXPECT_EQ(c.session_token, "ENVTOKEN");
  s.access_key_id.clear();
  c = make_default_credentials_chain(s, http)->get();
  EXPECT_EQ(c.access_key_id, "FILEKEY");
  EXPECT_EQ(c.secret_access_key, "FILESECRET");
  std::filesystem::remove_all(dir);
}

TEST(CredentialsChain, NamedProfileFromConfigFile) {
  auto dir = temp_dir("aws-cred-profile");
  std::ofstream(dir / "config")
      << "[profile dev]\naws_access_key_id = DEVKEY\naws_secret_access_key = DEVSECRET\n"
         "aws_session_token = DEVTOKEN\n";
  AwsSettings s;
  s.profile = "dev";
  s.config_file = (dir / "config").string();
  s.shared_credentials_file = (dir / "none").string();
  auto c = make_profile_source(s);
  std::string skipped;
  auto found = c->find(skipped);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->access_key_id, "DEVKEY");
  EXPECT_EQ(found->session_token, "DEVTOKEN");
  std::filesystem::remove_all(dir);
}

TEST(ContainerSource, FullUriOnLoopbackWithTokenFile) {
  std::string seen_auth;
  LocalServer server([&](httplib::Server& s) {
    s.Get("/creds", [&](const httplib::Request& req, httplib::Response& res) {
      seen_auth = req.get_header_value("Authorization");
      res.set_content(
          R"({"AccessKeyId":"CAK","SecretAccessKey":"CSK","Token":"CT","Expiration":"2030-01-02T03:04:05Z","Extra":1})",
          "application/json");
    });
  });
  auto dir = temp_dir("aws-cred-container");
  std::ofstream(dir / "token") << "secret-token\n";
  AwsSettings s;
  s.container_full_uri = server.url() + "/creds";
  s.container_authorization_token_file = (dir / "token").string();
  shared::http::HttpClient http;
  std::string skipped;
  auto c = make_container_source(s, http)->find(skipped);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->access_key_id, "CAK");
  EXPECT_EQ(c->session_token, "CT");
  EXPECT_EQ(seen_auth, "secret-token");
  ASSERT_TRUE(c->expiration);
  EXPECT_EQ(*c->expiration, std::chrono::system_clock::from_time_t(1893553445));
  std::filesystem::remove_all(dir);
}

TEST(ContainerSource, RelativeUriGoesToTheEcsAgentHost) {
  LocalServer server([&](httplib::Server& s) {
    s.Get("/v2/credentials/abc", [&](const httplib::Request&, httplib::Response& res) {
      res.set_content(R"({"AccessKeyId":"RAK","SecretAccessKey":"RSK"})", "application/json");
    });
  });
  AwsSettings s;
  s.container_relative_uri = "/v2/credentials/abc";
  s.container_host = "127.0.0.1:" + std::to_string(server.port);
  shared::http::HttpClient http;
  std::string skipped;
  auto c = make_container_source(s, http)->find(skipped);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->access_key_id, "RAK");
}

TEST(ContainerSource, FullUriOnAnOtherHostIsRefused) {
  AwsSettings s;
  s.container_full_uri = "http://10.1.2.3/creds";
  shared::http::HttpClient http;
  std::string skipped;
  EXPECT_THROW(make_container_source(s, http)->find(skipped), CredentialsError);
}

TEST(ImdsSource, UsesV2TokenThenRoleThenCredentials) {
  std::string token_seen;
  LocalServer server([&](httplib::Server& s) {
    s.Put("/latest/api/token", [&](const httplib::Request& req, httplib::Response& res) {
      EXPECT_EQ(req.get_header_value("X-aws-ec2-metadata-token-ttl-seconds"), "21600");
      res.set_content("TOKEN123", "text/plain");
    });
    s.Get("/latest/meta-data/iam/security-credentials/",
          [&](const httplib::Request& req, httplib::Response& res) {
            token_seen = req.get_header_value("X-aws-ec2-metadata-token");
            res.set_content("my-role", "text/plain");
          });
    s.Get("/latest/meta-data/iam/security-credentials/my-role", [&](const httplib::Request& req,
                                                                    httplib::Response& res) {
      if (req.get_header_value("X-aws-ec2-metadata-token") != "TOKEN123") {
        res.status = 401;
        return;
      }
      res.set_content(
          R"({"Code":"Success","AccessKeyId":"IAK","SecretAccessKey":"ISK","Token":"IT","Expiration":"2031-05-06T07:08:09Z"})",
          "application/json");
    });
  });
  AwsSettings s;
  s.ec2_metadata_endpoint = server.url();
  shared::http::HttpClient http;
  std::string skipped;
  auto c = make_imds_source(s, http)->find(skipped);
  ASSERT_TRUE(c);
  EXPECT_EQ(token_seen, "TOKEN123");
  EXPECT_EQ(c->access_key_id, "IAK");
  EXPECT_TRUE(c->expiration.has_value());
}

TEST(WebIdentitySource, AssumesTheRoleThroughSts) {
  std::string form;
  LocalServer server([&](httplib::Server& s) {
    s.Post("/", [&](const httplib::Request& req, httplib::Response& res) {
      form = req.body;
      res.set_content(
          "<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult><Credentials>"
          "<AccessKeyId>WAK</AccessKeyId><SecretAccessKey>WSK</SecretAccessKey><SessionToken>WT</"
          "SessionToken>"
          "<Expiration>2030-01-01T00:00:00Z</Expiration></Credentials></"
          "AssumeRoleWithWebIdentityResult>"
          "</AssumeRoleWithWebIdentityResponse>",
          "text/xml");
    });
  });
  auto dir = temp_dir("aws-cred-wi");
  std::ofstream(dir / "token") << "eyJ.jwt.token";
  AwsSettings s;
  s.region = "us-east-1";
  s.web_identity_token_file = (dir / "token").string();
  s.role_arn = "arn:aws:iam::123456789012:role/agent";
  s.role_session_name = "sess";
  s.endpoint_urls["sts"] = server.url();
  shared::http::HttpClient http;
  std::string skipped;
  auto c = make_web_identity_source(s, http)->find(skipped);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->access_key_id, "WAK");
  EXPECT_EQ(c->session_token, "WT");
  EXPECT_NE(form.find("Action=AssumeRoleWithWebIdentity"), std::string::npos);
  EXPECT_NE(form.find("RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fagent"),
            std::string::npos);
  EXPECT_NE(form.find("WebIdentityToken=eyJ.jwt.token"), std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST(Iso8601, ParsesWhatCredentialEndpointsSend) {
  EXPECT_EQ(parse_iso8601("1970-01-01T00:01:00Z"), std::chrono::system_clock::from_time_t(60));
  EXPECT_EQ(parse_iso8601("1970-01-01T00:01:00.123Z"), std::chrono::system_clock::from_time_t(60));
  EXPECT_FALSE(parse_iso8601("yesterday"));
  EXPECT_FALSE(parse_iso8601("1970-13-01T00:00:00Z"));
}

namespace {

// An STS AssumeRoleWithWebIdentity answer, with `expiration` as the Expiration element's text
// (nullopt: no element).
std::string sts_answer(const std::optional<std::string>& expiration = "2030-01-01T00:00:00Z") {
  return "<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult><Credentials>"
         "<AccessKeyId>WAK</AccessKeyId><SecretAccessKey>WSK</SecretAccessKey><SessionToken>WT</"
         "SessionToken>" +
         (expiration ? "<Expiration>" + *expiration + "</Expiration>" : std::string()) +
         "</Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>";
}

std::string sts_error(const std::string& code, const std::string& message) {
  return "<ErrorResponse "
         "xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type><Code>" +
         code + "</Code><Message>" + message +
         "</Message></Error><RequestId>r-1</RequestId></ErrorResponse>";
}

struct WebIdentityFixture {
  std::filesystem::path dir = temp_dir("aws-cred-wi2");
  std::vector<std::chrono::milliseconds> sleeps;
  AwsSettings settings(const std::string& sts_url) {
    std::ofstream(dir / "token") << "eyJ.jwt.token";
    AwsSettings s;
    s.region = "us-east-1";
    s.web_identity_token_file = (dir / "token").string();
    s.role_arn = "arn:aws:iam::123456789012:role/agent";
    s.endpoint_urls["sts"] = sts_url;
    return s;
  }
  std::shared_ptr<RetryStrategy> retry() {
    return std::make_shared<RetryStrategy>(
        RetrySettings{}, [this](std::chrono::milliseconds d) { sleeps.push_back(d); },
        [] { return 0.5; });
  }
  ~WebIdentityFixture() { std::filesystem::remove_all(dir); }
};

}  // namespace

TEST(WebIdentitySource, AMissingOrMalformedExpirationIsAnError) {
  for (const std::optional<std::string>& expiration :
       {std::optional<std::string>{}, std::optional<std::string>{"soon"}}) {
    LocalServer server([&](httplib::Server& s) {
      s.Post("/", [&](const httplib::Request&, httplib::Response& res) {
        res.set_content(sts_answer(expiration), "text/xml");
      });
    });
    WebIdentityFixture f;
    shared::http::HttpClient http;
    std::string skipped;
    try {
      make_web_identity_source(f.settings(server.url()), http, f.retry())->find(skipped);
      FAIL() << "accepted Expiration " << expiration.value_or("(none)");
    } catch (const CredentialsError& e) {
      EXPECT_NE(std::string(e.what()).find("Expiration"), std::string::npos) << e.what();
    }
  }
}

TEST(WebIdentitySource, StsErrorAnswerIsACredentialsErrorWithItsCodeAndNotRetried) {
  int calls = 0;
  LocalServer server([&](httplib::Server& s) {
    s.Post("/", [&](const httplib::Request&, httplib::Response& res) {
      ++calls;
      res.status = 400;
      res.set_content(sts_error("InvalidIdentityToken", "Incorrect token audience"), "text/xml");
    });
  });
  WebIdentityFixture f;
  shared::http::HttpClient http;
  std::string skipped;
  try {
    make_web_identity_source(f.settings(server.url()), http, f.retry())->find(skipped);
    FAIL();
  } catch (const CredentialsError& e) {
    EXPECT_NE(std::string(e.what()).find("InvalidIdentityToken"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("Incorrect token audience"), std::string::npos)
        << e.what();
  }
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(f.sleeps.empty());
}

TEST(WebIdentitySource, IdpCommunicationErrorIsRetriedAsTheSdksDo) {
  int calls = 0;
  LocalServer server([&](httplib::Server& s) {
    s.Post("/", [&](const httplib::Request&, httplib::Response& res) {
      if (++calls == 1) {
        res.status = 400;
        res.set_content(
            sts_error("IDPCommunicationError", "The identity provider could not be reached"),
            "text/xml");
        return;
      }
      res.set_content(sts_answer(), "text/xml");
    });
  });
  WebIdentityFixture f;
  shared::http::HttpClient http;
  std::string skipped;
  auto c = make_web_identity_source(f.settings(server.url()), http, f.retry())->find(skipped);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->access_key_id, "WAK");
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(f.sleeps.size(), 1u);
}

TEST(ContainerSource, FullUriHostAllowList) {
  for (const char* ok :
       {"https://creds.example.com/v1", "http://127.0.0.1:8080/creds", "http://127.1.2.3/creds",
        "http://[::1]:51679/creds", "http://localhost:3000/creds",
        "http://169.254.170.2/v2/credentials", "http://169.254.170.23/v1/credentials",
        "http://[fd00:ec2::23]/v1/credentials"})
    EXPECT_TRUE(container_full_uri_allowed(ok)) << ok;
  for (const char* refused :
       {"http://10.1.2.3/creds", "http://169.254.169.254/latest", "http://example.com/creds",
        "http://[::2]/creds", "http://localhost.example.com/creds", "http://127.0.0.1.nip.io/creds",
        "http://169.254.170.3/creds", "http://[fd00:ec2::254]/creds"})
    EXPECT_FALSE(container_full_uri_allowed(refused)) << refused;
}

TEST(ContainerSource, AuthorizationTokenValueIsSentAsAuthorization) {
  std::string seen_auth;
  LocalServer server([&](httplib::Server& s) {
    s.Get("/creds", [&](const httplib::Request& req, httplib::Response& res) {
      seen_auth = req.get_header_value("Authorization");
      res.set_content(R"({"AccessKeyId":"CAK","SecretAccessKey":"CSK"})", "application/json");
    });
  });
  AwsSettings s;
  s.container_full_uri = server.url() + "/creds";
  s.container_authorization_token = "Basic abc123";
  shared::http::HttpClient http;
  std::string skipped;
  ASSERT_TRUE(make_container_source(s, http)->find(skipped));
  EXPECT_EQ(seen_auth, "Basic abc123");
}

TEST(ContainerSource, ATokenWithALineBreakIsRefusedBeforeAnyRequest) {
  int calls = 0;
  LocalServer server([&](httplib::Server& s) {
    s.Get("/creds", [&](const httplib::Request&, httplib::Response& res) {
      ++calls;
      res.set_content(R"({"AccessKeyId":"CAK","SecretAccessKey":"CSK"})", "application/json");
    });
  });
  auto dir = temp_dir("aws-cred-crlf");
  std::ofstream(dir / "token") << "abc\r\nX-Injected: 1\n";
  shared::http::HttpClient http;
  std::string skipped;
  AwsSettings by_value;
  by_value.container_full_uri = server.url() + "/creds";
  by_value.container_authorization_token = "abc\nX-Injected: 1";
  EXPECT_THROW(make_container_source(by_value, http)->find(skipped), CredentialsError);
  AwsSettings by_file;
  by_file.container_full_uri = server.url() + "/creds";
  by_file.container_authorization_token_file = (dir / "token").string();
  EXPECT_THROW(make_container_source(by_file, http)->find(skipped), CredentialsError);
  EXPECT_EQ(calls, 0);
  std::filesystem::remove_all(dir);
}

namespace {

// Every remote source configured at once, each on its own local server counting its requests.
struct AllSources {
  int sts = 0, container = 0, imds = 0;
  bool sts_fails = false;
  LocalServer sts_server{[this](httplib::Server& s) {
    s.Post("/", [this](const httplib::Request&, httplib::Response& res) {
      ++sts;
      if (sts_fails) {
        res.status = 403;
        res.set_content(
            sts_error("AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity"),
            "text/xml");
        return;
      }
      res.set_content(sts_answer(), "text/xml");
    });
  }};
  LocalServer container_server{[this](httplib::Server& s) {
    s.Get("/creds", [this](const httplib::Request&, httplib::Response& res) {
      ++container;
      res.set_content(
          R"({"AccessKeyId":"CAK","SecretAccessKey":"CSK","Expiration":"2030-01-01T00:00:00Z"})",
          "application/json");
    });
  }};
  LocalServer imds_server{[this](httplib::Server& s) {
    s.Put("/latest/api/token", [this](const httplib::Request&, httplib::Response& res) {
      ++imds;
      res.set_content("T", "text/plain");
    });
    s.Get("/latest/meta-data/iam/security-credentials/",
          [](const httplib::Request&, httplib::Response& res) {
            res.set_content("role", "text/plain");
          });
    s.Get("/latest/meta-data/iam/security-credentials/role", [](const httplib::Request&,
                                                                httplib::Response& res) {
      res.set_content(
          R"({"AccessKeyId":"IAK","SecretAccessKey":"ISK","Expiration":"2030-01-01T00:00:00Z"})",
          "application/json");
    });
  }};
  std::filesystem::path dir = temp_dir("aws-cred-chain");

  AwsSettings settings(bool profile, bool web_identity, bool container_uri) {
    AwsSettings s;
    s.region = "us-east-1";
    s.home = "/nonexistent";
    s.config_file = (dir / "none").string();
    s.shared_credentials_file = (dir / "credentials").string();
    std::ofstream(dir / "credentials")
        << (profile ? "[default]\naws_access_key_id=PAK\naws_secret_access_key=PSK\n" : "");
    if (web_identity) {
      std::ofstream(dir / "token") << "eyJ.jwt.token";
      s.web_identity_token_file = (dir / "token").string();
      s.role_arn = "arn:aws:iam::123456789012:role/agent";
      s.endpoint_urls["sts"] = sts_server.url();
    }
    if (container_uri) s.container_full_uri = container_server.url() + "/creds";
    s.ec2_metadata_endpoint = imds_server.url();
    return s;
  }
  ~AllSources() { std::filesystem::remove_all(dir); }
};

}  // namespace

TEST(CredentialsChain, ProfileThenWebIdentityThenContainerThenImds) {
  AllSources all;
  shared::http::HttpClient http;
  struct Step {
    bool profile, web_identity, container;
    const char* key;
    const char* source;
  };
  for (const Step& step :
       {Step{true, true, true, "PAK", "profile default"},
        Step{false, true, true, "WAK", "web identity"},
        Step{false, false, true, "CAK", "container"}, Step{false, false, false, "IAK", "imds"}}) {
    const int sts = all.sts, container = all.container, imds = all.imds;
    auto chain = make_default_credentials_chain(
        all.settings(step.profile, step.web_identity, step.container), http);
    EXPECT_EQ(chain->get().access_key_id, step.key);
    EXPECT_EQ(static_cast<CredentialsChain&>(*chain).active_source(), step.source);
    // Sources after the one that answered were never asked.
    const std::string who = step.source;
    if (who == "profile default") {
      EXPECT_EQ(all.sts, sts);
    }
    if (who != "imds") {
      EXPECT_EQ(all.imds, imds) << who;
    }
    if (who == "web identity" || who == "profile default") {
      EXPECT_EQ(all.container, container) << who;
    }
  }
}

TEST(CredentialsChain, AConfiguredProviderThatFailsStopsTheChain) {
  // As the SDKs' chains (Rust's stops on any error but "not loaded"; Go's picks the configured
  // provider): web identity is configured, STS refuses, and the container credentials that would
  // work are not used.
  AllSources all;
  all.sts_fails = true;
  shared::http::HttpClient http;
  auto chain = make_default_credentials_chain(all.settings(false, true, true), http);
  try {
    chain->get();
    FAIL();
  } catch (const CredentialsError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("web identity failed"), std::string::npos) << m;
    EXPECT_NE(m.find("AccessDenied"), std::string::npos) << m;
  }
  EXPECT_EQ(all.container, 0);
  EXPECT_EQ(all.imds, 0);
}

namespace {

// An IMDS whose token endpoint answers `token_status`; credentials need the token only when it
// handed one out.
struct Imds {
  int token_status;
  std::vector<std::string> tokens_seen;
  LocalServer server{[this](httplib::Server& s) {
    s.Put("/latest/api/token", [this](const httplib::Request&, httplib::Response& res) {
      res.status = token_status;
      if (token_status == 200) res.set_content("TOKEN", "text/plain");
    });
    s.Get("/latest/meta-data/iam/security-credentials/",
          [this](const httplib::Request& req, httplib::Response& res) {
            tokens_seen.push_back(req.get_header_value("X-aws-ec2-metadata-token"));
            res.set_content("role", "text/plain");
          });
    s.Get("/latest/meta-data/iam/security-credentials/role", [this](const httplib::Request& req,
                                                                    httplib::Response& res) {
      tokens_seen.push_back(req.get_header_value("X-aws-ec2-metadata-token"));
      res.set_content(
          R"({"AccessKeyId":"IAK","SecretAccessKey":"ISK","Expiration":"2030-01-01T00:00:00Z"})",
          "application/json");
    });
  }};
  explicit Imds(int status) : token_status(status) {}
};

}  // namespace

TEST(ImdsSource, TokenRefusedWith403Or404Or405FallsBackToImdsV1) {
  for (int status : {403, 404, 405}) {
    Imds imds(status);
    AwsSettings s;
    s.ec2_metadata_endpoint = imds.server.url();
    shared::http::HttpClient http;
    std::string skipped;
    auto c = make_imds_source(s, http)->find(skipped);
    ASSERT_TRUE(c) << status;
    EXPECT_EQ(c->access_key_id, "IAK");
    EXPECT_EQ(imds.tokens_seen, (std::vector<std::string>{"", ""}))
        << status;  // v1: no token header
  }
}

TEST(ImdsSource, NoV1FallbackWhenDisabledOrWhenTheTokenFailsOtherwise) {
  {
    Imds imds(403);
    AwsSettings s;
    s.ec2_metadata_endpoint = imds.server.url();
    s.ec2_metadata_v1_disabled = true;
    shared::http::HttpClient http;
    std::string skipped;
    try {
      make_imds_source(s, http)->find(skipped);
      FAIL();
    } catch (const CredentialsError& e) {
      EXPECT_NE(std::string(e.what()).find("AWS_EC2_METADATA_V1_DISABLED"), std::string::npos)
          << e.what();
    }
    EXPECT_TRUE(imds.tokens_seen.empty());
  }
  for (int status : {400, 500}) {
    Imds imds(status);
    AwsSettings s;
    s.ec2_metadata_endpoint = imds.server.url();
    shared::http::HttpClient http;
    std::string skipped;
    EXPECT_THROW(make_imds_source(s, http)->find(skipped), CredentialsError) << status;
    EXPECT_TRUE(imds.tokens_seen.empty()) << status;
  }
}
