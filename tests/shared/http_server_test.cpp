#include "shared/http_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <future>
#include <sstream>
#include <thread>

#include "shared/logging.h"

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
  auto s = std::make_unique<RunningService>(config);
  std::promise<void> entered;
  std::atomic<bool> release{false};
  std::atomic<bool> handler_done{false};
  s->service->routes().Get("/stuck", [&](const httplib::Request&, httplib::Response& res) {
    entered.set_value();
    while (!release) std::this_thread::sleep_for(10ms);
    res.set_content("late", "text/plain");
    handler_done = true;
  });
  s->start();
  auto in_flight = std::async(std::launch::async, [&] { return s->client().Get("/stuck"); });
  entered.get_future().wait();
  const auto t0 = std::chrono::steady_clock::now();
  s->service->stop();
  EXPECT_FALSE(s->done.get());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
  EXPECT_FALSE(handler_done) << "serve() waited for the stuck request";
  // The request's thread still uses the service: destroying it waits for that thread rather
  // than freeing what it uses (AddressSanitizer reports the use-after-free otherwise).
  auto destroyed = std::async(std::launch::async, [&] { s.reset(); });
  EXPECT_EQ(destroyed.wait_for(300ms), std::future_status::timeout)
      << "the service was destroyed while a request thread was still using it";
  release = true;
  destroyed.get();
  EXPECT_TRUE(handler_done);
  auto r = in_flight.get();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "late");
}

// A signal during start-up stops the service before serve() runs (the library ignores a stop
// that comes before its accept loop).
TEST(HttpService, StopBeforeServeReturnsAtOnceAsDrained) {
  RunningService s;
  s.port = s.service->bind();
  s.service->stop();
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(s.service->serve());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);
  EXPECT_FALSE(s.client().Get("/healthz")) << "still accepting after stop";
}

TEST(HttpService, HeaderBytesOverTheLimitAre431) {
  auto config = test_config();
  config.max_header_bytes = 1024;
  RunningService s(config);
  s.start();
  auto big = s.client().Get("/healthz", {{"X-Big", std::string(2000, 'b')}});
  ASSERT_TRUE(big);
  EXPECT_EQ(big->status, 431);
  EXPECT_EQ(body_of(big)["error"]["code"], "headers_too_large");
  auto fits = s.client().Get("/healthz", {{"X-Big", std::string(500, 'b')}});
  ASSERT_TRUE(fits);
  EXPECT_EQ(fits->status, 200);
}

TEST(HttpService, NoRequestCounterSeriesWithoutMethodAndStatus) {
  RunningService s;
  s.start();
  auto m = s.client().Get("/metrics");
  ASSERT_TRUE(m);
  // The duration histogram is there from the start, with nothing in it yet.
  EXPECT_NE(m->body.find("http_request_duration_seconds_count{service=\"test\"} 0\n"),
            std::string::npos)
      << m->body;
  std::istringstream lines(m->body);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("http_requests_total", 0) == 0) {
      EXPECT_NE(line.find("method="), std::string::npos) << "a series never incremented: " << line;
    }
  }
}

// Lines written to the log while the test runs; read them after the service is gone, so that no
// request thread is still writing.
class CapturedLog {
 public:
  CapturedLog() {
    shared::log::init(shared::LogConfig{"info", "json"}, "test");
    shared::log::set_sink_for_tests(&out_);
  }
  ~CapturedLog() { shared::log::set_sink_for_tests(nullptr); }
  std::vector<nlohmann::json> lines() const {
    std::vector<nlohmann::json> v;
    std::istringstream in(out_.str());
    for (std::string line; std::getline(in, line);) v.push_back(nlohmann::json::parse(line));
    return v;
  }
  std::vector<nlohmann::json> lines_with(const std::string& msg) const {
    std::vector<nlohmann::json> v;
    for (auto& l : lines())
      if (l["msg"] == msg) v.push_back(l);
    return v;
  }

 private:
  std::ostringstream out_;
};

TEST(HttpService, LinesAHandlerLogsCarryTheRequestId) {
  CapturedLog log;
  std::string generated;
  {
    RunningService s;
    s.service->routes().Get("/work", [](const httplib::Request&, httplib::Response& res) {
      shared::log::info("turn started", {{"turn_id", "t1"}});
      res.set_content("ok", "text/plain");
    });
    s.start();
    auto given = s.client().Get("/work", {{"X-Request-Id", "req-from-app-1"}});
    ASSERT_TRUE(given);
    auto fresh = s.client().Get("/work");
    ASSERT_TRUE(fresh);
    generated = fresh->get_header_value("X-Request-Id");
    ASSERT_EQ(generated.size(), 24u);
  }
  const auto handler_lines = log.lines_with("turn started");
  ASSERT_EQ(handler_lines.size(), 2u);
  EXPECT_EQ(handler_lines[0]["request_id"], "req-from-app-1");
  EXPECT_EQ(handler_lines[1]["request_id"], generated);
  const auto access = log.lines_with("request");
  ASSERT_EQ(access.size(), 2u);
  EXPECT_EQ(access[0]["request_id"], "req-from-app-1");
  EXPECT_EQ(access[1]["request_id"], generated);
  // Lines written outside a request (start and stop) carry none.
  for (const auto& l : log.lines_with("listening")) EXPECT_FALSE(l.contains("request_id"));
}

// What one raw request on a new connection gets back (status line and headers).
std::string raw_exchange(int port, const std::string& request) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return "";
  }
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  (void)!::write(fd, request.data(), request.size());
  std::string reply;
  char buf[4096];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) reply.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return reply;
}

std::string header_of(const std::string& reply, const std::string& name) {
  const auto at = reply.find("\r\n" + name + ": ");
  if (at == std::string::npos) return "";
  const auto start = at + 4 + name.size();
  return reply.substr(start, reply.find("\r\n", start) - start);
}

// The library answers some requests itself before any hook of ours (a request line it cannot
// parse): their access line and duration must be their own, not left over from the request the
// same thread served before.
TEST(HttpService, ARequestRefusedBeforeRoutingGetsItsOwnIdAndDuration) {
  CapturedLog log;
  double duration_sum = 0;
  std::uint64_t duration_count = 0;
  std::string refused_id;
  {
    auto config = test_config();
    config.threads = 1;  // both requests on the same worker thread
    RunningService s(config);
    s.start();
    auto first = s.client().Get("/healthz", {{"X-Request-Id", "first-request"}});
    ASSERT_TRUE(first);
    std::this_thread::sleep_for(300ms);
    const std::string reply = raw_exchange(s.port, "NOT A REQUEST\r\n\r\n");
    ASSERT_EQ(reply.rfind("HTTP/1.1 400", 0), 0u) << reply;
    refused_id = header_of(reply, "X-Request-Id");
    EXPECT_EQ(refused_id.size(), 24u) << reply;
    s.service->stop();
    s.done.wait();
    auto& h = s.metrics.histogram("http_request_duration_seconds", "HTTP request duration",
                                  shared::latency_buckets(), {{"service", "test"}});
    duration_sum = h.sum();
    duration_count = h.count();
    // The made-up method "NOT" is not a label value of its own.
    const std::string rendered = s.metrics.render();
    EXPECT_EQ(rendered.find("method=\"NOT\""), std::string::npos) << rendered;
    EXPECT_NE(
        rendered.find("http_requests_total{method=\"OTHER\",service=\"test\",status=\"400\"} 1"),
        std::string::npos)
        << rendered;
  }
  EXPECT_EQ(duration_count, 2u);
  EXPECT_LT(duration_sum, 0.25) << "the refused request was timed from the previous request";
  const auto access = log.lines_with("request");
  ASSERT_EQ(access.size(), 1u);
  EXPECT_EQ(access[0]["status"], 400);
  EXPECT_EQ(access[0]["request_id"], refused_id);
  EXPECT_LT(access[0]["duration_ms"].get<int>(), 250);
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
