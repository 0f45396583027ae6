#include "shared/http_server.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <future>
#include <thread>

namespace {

using namespace std::chrono_literals;
using shared::http::HttpService;
using shared::http::ServerConfig;

ServerConfig test_config() {
  ServerConfig c;
  c.listen = {"127.0.0.1", 0};
  c.threads = 4;
  c.max_body_bytes = 1024;
  c.max_header_count = 20;
  c.drain_timeout = 3s;
  return c;
}

class RunningService {
 public:
  explicit RunningService(ServerConfig config = test_config())
      : service(std::make_unique<HttpService>("test", config, metrics)) {}
  void start() {
    port = service->bind();
    done = std::async(std::launch::async, [this] { return service->serve(); });
  }
  ~RunningService() {
    service->stop();
    if (done.valid()) done.wait();
  }
  httplib::Client client() const {
    httplib::Client c("127.0.0.1", port);
    c.set_read_timeout(5, 0);
    return c;
  }
  shared::MetricsRegistry metrics;
  std::unique_ptr<HttpService> service;
  int port = 0;
  std::future<bool> done;
};

nlohmann::json body_of(const httplib::Result& r) { return nlohmann::json::parse(r->body); }

TEST(HttpService, UnknownPathIsAJsonError) {
  RunningService s;
  s.start();
  auto r = s.client().Get("/nope");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/json");
  EXPECT_EQ(body_of(r)["error"]["code"], "not_found");
}

TEST(HttpService, HttpErrorThrownByAHandlerKeepsItsStatusAndCode) {
  RunningService s;
  s.service->routes().Get("/conflict", [](const httplib::Request&, httplib::Response&) {
    throw shared::http::HttpError(409, "turn_running", "a turn is already running");
  });
  s.start();
  auto r = s.client().Get("/conflict");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 409);
  EXPECT_EQ(body_of(r),
            nlohmann::json::parse(
                R"({"error":{"code":"turn_running","message":"a turn is already running"}})"));
}

TEST(HttpService, UnexpectedExceptionIs500WithoutItsMessage) {
  RunningService s;
  s.service->routes().Get("/boom", [](const httplib::Request&, httplib::Response&) {
    throw std::runtime_error("password=hunter2 leaked detail");
  });
  s.start();
  auto r = s.client().Get("/boom");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 500);
  EXPECT_EQ(body_of(r)["error"]["code"], "internal");
  EXPECT_EQ(r->body.find("hunter2"), std::string::npos);
}

TEST(HttpService, BodyOverTheLimitIs413BeforeTheHandlerRuns) {
  RunningService s;
  bool called = false;
  s.service->routes().Post("/echo", [&](const httplib::Request&, httplib::Response& res) {
    called = true;
    res.set_content("ok", "text/plain");
  });
  s.start();
  auto r = s.client().Post("/echo", std::string(4096, 'x'), "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_EQ(body_of(r)["error"]["code"], "payload_too_large");
  EXPECT_FALSE(called);
  auto ok = s.client().Post("/echo", std::string(100, 'x'), "application/json");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
}

TEST(HttpService, ChunkedRequestBodyIsRefusedWith411) {
  RunningService s;
  s.service->routes().Post("/echo", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok", "text/plain");
  });
  s.start();
  httplib::Client c = s.client();
  auto r = c.Post(
      "/echo",
      [](size_t offset, httplib::DataSink& sink) {
        if (offset < 3 * 4096) {
          std::string chunk(4096, 'y');
          sink.write(chunk.data(), chunk.size());
        } else {
          sink.done();
        }
        return true;
      },
      "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 411);
}

TEST(HttpService, TooManyHeadersIs431) {
  RunningService s;
  s.start();
  httplib::Headers h;
  for (int i = 0; i < 30; ++i) h.emplace("X-Filler-" + std::to_string(i), "v");
  auto r = s.client().Get("/healthz", h);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 431);
}

TEST(HttpService, RequestIdIsEchoedWhenSaneAndGeneratedOtherwise) {
  RunningService s;
  s.start();
  auto a = s.client().Get("/healthz", {{"X-Request-Id", "abc-123"}});
  ASSERT_TRUE(a);
  EXPECT_EQ(a->get_header_value("X-Request-Id"), "abc-123");
  auto b = s.client().Get("/healthz", {{"X-Request-Id", "bad id\" with spaces"}});
  ASSERT_TRUE(b);
  EXPECT_EQ(b->get_header_value("X-Request-Id").size(), 24u);
}

TEST(HttpService, MetricsCountServedRequests) {
  RunningService s;
  s.start();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(s.client().Get("/healthz"));
  // Requests are counted once their response is written, so give the last one a moment.
  const std::string expected =
      "http_requests_total{method=\"GET\",service=\"test\",status=\"200\"} 3";
  std::string body, type;
  for (int i = 0; i < 50; ++i) {
    auto m = s.client().Get("/metrics");
    ASSERT_TRUE(m);
    body = m->body;
    type = m->get_header_value("Content-Type");
    if (body.find(expected) != std::string::npos) break;
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(type, "text/plain; version=0.0.4");
  EXPECT_NE(body.find(expected), std::string::npos) << body;
}

TEST(HttpService, ReadinessReportsEachCheck) {
  RunningService s;
  s.service->add_readiness_check("store", [] { return std::string(); });
  s.service->add_readiness_check("hub", [] { return std::string("connection refused"); });
  s.start();
  auto r = s.client().Get("/readyz");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(body_of(r)["checks"]["store"], "ok");
  EXPECT_EQ(body_of(r)["checks"]["hub"], "connection refused");
}

TEST(HttpService, StopLetsTheInFlightRequestFinishAndRefusesNewOnes) {
  RunningService s;
  std::promise<void> entered;
  s.service->routes().Get("/slow", [&](const httplib::Request&, httplib::Response& res) {
    entered.set_value();
    std::this_thread::sleep_for(600ms);
    res.set_content("finished", "text/plain");
  });
  s.start();
  auto in_flight = std::async(std::launch::async, [&] { return s.client().Get("/slow"); });
  entered.get_future().wait();
  s.service->stop();
  auto r = in_flight.get();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "finished");
  EXPECT_TRUE(s.done.get());  // drained within the drain time
  auto after = s.client().Get("/healthz");
  EXPECT_FALSE(after);  // the listener is closed
}

TEST(HttpService, DrainTimeoutGivesUpOnARequestThatDoesNotFinish) {
  auto config = test_config();
  config.drain_timeout = 200ms;
  RunningService s(config);
  std::promise<void> entered;
  std::atomic<bool> release{false};
  s.service->routes().Get("/stuck", [&](const httplib::Request&, httplib::Response& res) {
    entered.set_value();
    while (!release) std::this_thread::sleep_for(10ms);
    res.set_content("late", "text/plain");
  });
  s.start();
  auto in_flight = std::async(std::launch::async, [&] { return s.client().Get("/stuck"); });
  entered.get_future().wait();
  const auto t0 = std::chrono::steady_clock::now();
  s.service->stop();
  EXPECT_FALSE(s.done.get());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
  release = true;
  in_flight.wait();
}

TEST(HttpService, ParseJsonBodyRefusesNonJson) {
  RunningService s;
  s.service->routes().Post("/j", [](const httplib::Request& req, httplib::Response& res) {
    auto j = shared::http::parse_json_body(req);
    shared::http::send_json(res, 200, j);
  });
  s.start();
  auto wrong_type = s.client().Post("/j", "a=b", "application/x-www-form-urlencoded");
  ASSERT_TRUE(wrong_type);
  EXPECT_EQ(wrong_type->status, 415);
  auto bad = s.client().Post("/j", "{not json", "application/json");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  auto arr = s.client().Post("/j", "[1]", "application/json");
  ASSERT_TRUE(arr);
  EXPECT_EQ(arr->status, 400);
  auto ok = s.client().Post("/j", R"({"a":1})", "application/json");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  EXPECT_EQ(body_of(ok)["a"], 1);
}

}  // namespace
