// AwsJsonClient against an in-process server that checks SigV4 like AWS does.
#include "shared/aws/aws_json_client.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <ctime>
#include <thread>

#include "../support/loopback_ports.h"
#include "shared/aws/sigv4_verifier.h"

using namespace shared::aws;

namespace {

// A loopback port that refuses connections: bound by this process (so nobody else takes it) but
// never listening. A listening socket would accept into its backlog and leave the call hanging.
int closed_port() {
  static test_support::BoundLoopbackPort held;
  return held.port();
}

// A JSON-protocol service on 127.0.0.1:<random port>. `respond` decides each answer.
class JsonService {
 public:
  using Responder = std::function<void(int call, const httplib::Request&, httplib::Response&)>;
  // clock_offset: the service's clock runs this far from ours (skew tests).
  explicit JsonService(Responder respond, std::chrono::milliseconds clock_offset = {})
      : respond_(std::move(respond)) {
    server_.Post("/", [this, clock_offset](const httplib::Request& req, httplib::Response& res) {
      ReceivedRequest rr{"POST", "/", "", {}, req.body};
      for (const auto& [k, v] : req.headers) rr.headers.emplace_back(k, v);
      const auto now = std::chrono::system_clock::now() + clock_offset;
      VerifyResult v = verify_sigv4(rr, "AKIDTEST", "SECRETTEST", "dynamodb", now);
      if (!v.ok) {
        ++refused;
        res.status = 403;
        const std::time_t t = std::chrono::system_clock::to_time_t(now);
        std::tm tm{};
        gmtime_r(&t, &tm);
        char date[64];
        std::strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        res.set_header("Date", date);
        // As AWS: the same error type for a bad signature and a skewed clock; only Date tells.
        res.set_header("x-amzn-ErrorType", "InvalidSignatureException");
        res.set_content(R"({"message":")" + v.reason + "\"}", "application/x-amz-json-1.0");
        return;
      }
      last_target = req.get_header_value("X-Amz-Target");
      last_content_type = req.get_header_value("Content-Type");
      respond_(++calls, req, res);
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~JsonService() {
    server_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  std::atomic<int> calls{0};
  std::atomic<int> refused{0};
  std::string last_target, last_content_type;

 private:
  Responder respond_;
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

struct Fixture {
  shared::http::HttpClient http;
  std::vector<std::chrono::milliseconds> sleeps;
  std::shared_ptr<RetryStrategy> retry = std::make_shared<RetryStrategy>(
      RetrySettings{}, [this](auto d) { sleeps.push_back(d); }, [] { return 0.5; });

  AwsJsonClient client(const std::string& url, const std::string& secret = "SECRETTEST") {
    AwsSettings s;
    s.region = "us-east-1";
    s.endpoint_urls["dynamodb"] = url;
    return AwsJsonClient(s, "dynamodb", "dynamodb", "1.0",
                         make_static_credentials({"AKIDTEST", secret, "", std::nullopt}), http,
                         retry);
  }
};

}  // namespace

TEST(AwsJsonClient, SendsTargetAndContentTypeAndParsesTheAnswer) {
  JsonService svc([](int, const httplib::Request& req, httplib::Response& res) {
    auto body = nlohmann::json::parse(req.body);
    res.set_content(nlohmann::json{{"echo", body["TableName"]}}.dump(),
                    "application/x-amz-json-1.0");
  });
  Fixture f;
  auto out = f.client(svc.url()).call("DynamoDB_20120810.DescribeTable", {{"TableName", "t1"}});
  EXPECT_EQ(out["echo"], "t1");
  EXPECT_EQ(svc.last_target, "DynamoDB_20120810.DescribeTable");
  EXPECT_EQ(svc.last_content_type, "application/x-amz-json-1.0");
}

TEST(AwsJsonClient, WrongSecretIsRejectedBySignatureCheckAndNotRetried) {
  JsonService svc([](int, const httplib::Request&, httplib::Response& res) {
    res.set_content("{}", "text/plain");
  });
  Fixture f;
  try {
    f.client(svc.url(), "WRONG").call("DynamoDB_20120810.ListTables", nlohmann::json::object());
    FAIL();
  } catch (const AwsError& e) {
    EXPECT_EQ(e.code(), "InvalidSignatureException");
    EXPECT_EQ(e.status(), 403);
    EXPECT_FALSE(e.retryable());
  }
  EXPECT_TRUE(f.sleeps.empty());
}

TEST(AwsJsonClient, RetriesThrottlingThenSucceeds) {
  JsonService svc([](int call, const httplib::Request&, httplib::Response& res) {
    if (call < 3) {
      res.status = 400;
      res.set_content(
          R"({"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException","message":"slow down"})",
          "application/x-amz-json-1.0");
      return;
    }
    res.set_content(R"({"ok":true})", "application/x-amz-json-1.0");
  });
  Fixture f;
  auto out = f.client(svc.url()).call("DynamoDB_20120810.PutItem", nlohmann::json::object());
  EXPECT_EQ(out["ok"], true);
  EXPECT_EQ(svc.calls.load(), 3);
  ASSERT_EQ(f.sleeps.size(), 2u);
  EXPECT_EQ(f.sleeps[0], std::chrono::milliseconds(500));
  EXPECT_EQ(f.sleeps[1], std::chrono::milliseconds(1000));
}

TEST(AwsJsonClient, ErrorTypeHeaderWinsAndConditionalFailureIsNotRetried) {
  JsonService svc([](int, const httplib::Request&, httplib::Response& res) {
    res.status = 400;
    res.set_header("x-amzn-ErrorType",
                   "ConditionalCheckFailedException:http://internal.amazon.com/");
    res.set_content(R"({"Message":"The conditional request failed"})",
                    "application/x-amz-json-1.0");
  });
  Fixture f;
  try {
    f.client(svc.url()).call("DynamoDB_20120810.PutItem", nlohmann::json::object());
    FAIL();
  } catch (const AwsError& e) {
    EXPECT_EQ(e.code(), "ConditionalCheckFailedException");
    EXPECT_EQ(std::string(e.what()),
              "ConditionalCheckFailedException: The conditional request failed");
  }
  EXPECT_EQ(svc.calls.load(), 1);
}

TEST(AwsJsonClient, GivesUpAfterThreeAttemptsOn503) {
  JsonService svc([](int, const httplib::Request&, httplib::Response& res) {
    res.status = 503;
    res.set_content("<html>unavailable</html>", "text/html");
  });
  Fixture f;
  try {
    f.client(svc.url()).call("DynamoDB_20120810.GetItem", nlohmann::json::object());
    FAIL();
  } catch (const AwsError& e) {
    EXPECT_EQ(e.status(), 503);
    EXPECT_TRUE(e.retryable());
  }
  EXPECT_EQ(svc.calls.load(), 3);
}

TEST(AwsJsonClient, ConnectionRefusedIsRetriedThenThrownAsTransportError) {
  Fixture f;
  const int port = closed_port();
  EXPECT_THROW(
      f.client("http://127.0.0.1:" + std::to_string(port)).call("X.Y", nlohmann::json::object()),
      shared::http::TransportError);
  EXPECT_EQ(f.sleeps.size(), 2u);
}

TEST(ErrorShape, ReadsTypeFromBodyOrHeaderWithoutThrowing) {
  EXPECT_EQ(
      parse_error_shape("", R"({"__type":"a.b#ResourceNotFoundException","message":"gone"})").code,
      "ResourceNotFoundException");
  EXPECT_EQ(parse_error_shape("ThrottlingException", "not json").code, "ThrottlingException");
  EXPECT_EQ(parse_error_shape("", "not json").message, "not json");
  EXPECT_EQ(parse_error_shape("", "").code, "");
}

TEST(AwsJsonClient, ServiceClockTenMinutesAheadIsLearnedFromDateAndTheCallRetried) {
  JsonService svc([](int, const httplib::Request&,
                     httplib::Response& res) { res.set_content("{}", "application/json"); },
                  std::chrono::minutes(10));
  Fixture f;
  auto c = f.client(svc.url());
  EXPECT_EQ(c.call("DynamoDB_20120810.ListTables", {}), nlohmann::json::object());
  EXPECT_EQ(svc.refused.load(), 1);
  EXPECT_EQ(svc.calls.load(), 1);
  EXPECT_NEAR(std::chrono::duration_cast<std::chrono::seconds>(c.clock().offset()).count(), 600, 5);
  c.call("DynamoDB_20120810.ListTables", {});
  EXPECT_EQ(svc.refused.load(), 1);  // signed with the corrected clock from then on
}

TEST(AwsJsonClient, ABadSignatureWithAMatchingClockIsNotRetried) {
  JsonService svc([](int, const httplib::Request&, httplib::Response& res) {
    res.set_content("{}", "application/json");
  });
  Fixture f;
  auto c = f.client(svc.url(), "WRONG");
  EXPECT_THROW(c.call("DynamoDB_20120810.ListTables", {}), AwsError);
  EXPECT_EQ(svc.refused.load(), 1);
  EXPECT_EQ(c.clock().offset().count(), 0);
}
