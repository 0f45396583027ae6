#include "shared/http_client.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <future>
#include <set>
#include <thread>

namespace {

using namespace std::chrono_literals;
using shared::http::ClientRequest;
using shared::http::HttpClient;
using shared::http::TransportError;

class LocalServer {
 public:
  LocalServer() {
    server.new_task_queue = [] { return new httplib::ThreadPool(8); };
    server.Get("/hello", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mutex);
      remote_ports.insert(req.remote_port);
      res.set_header("X-Custom", "yes");
      res.set_content("hello " + req.get_header_value("X-Name"), "text/plain");
    });
    server.Post("/echo", [](const httplib::Request& req, httplib::Response& res) {
      res.status = 201;
      res.set_content(req.method + ":" + req.body, "text/plain");
    });
    server.Get("/slow", [](const httplib::Request&, httplib::Response& res) {
      std::this_thread::sleep_for(1500ms);
      res.set_content("late", "text/plain");
    });
    server.Get("/stream", [](const httplib::Request&, httplib::Response& res) {
      res.set_chunked_content_provider("text/plain", [](size_t offset, httplib::DataSink& sink) {
        if (offset >= 5 * 6) {
          sink.done();
          return true;
        }
        std::this_thread::sleep_for(20ms);
        sink.write("chunk\n", 6);
        return true;
      });
    });
    port = server.bind_to_any_port("127.0.0.1");
    thread = std::thread([this] { server.listen_after_bind(); });
    while (!server.is_running()) std::this_thread::sleep_for(1ms);
  }
  ~LocalServer() {
    server.stop();
    thread.join();
  }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port) + path;
  }

  httplib::Server server;
  int port = 0;
  std::thread thread;
  std::mutex mutex;
  std::set<int> remote_ports;
};

TEST(HttpClient, SendsHeadersAndBodyAndReadsTheResponse) {
  LocalServer s;
  HttpClient client;
  auto r = client.send({.method = "GET", .url = s.url("/hello"), .headers = {{"X-Name", "world"}}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "hello world");
  EXPECT_EQ(r.header("x-custom"), "yes");
  EXPECT_EQ(r.header("X-CUSTOM"), "yes");
  auto p = client.send({.method = "POST", .url = s.url("/echo"), .body = "payload"});
  EXPECT_EQ(p.status, 201);
  EXPECT_EQ(p.body, "POST:payload");
}

TEST(HttpClient, ReusesItsConnectionAcrossRequests) {
  LocalServer s;
  HttpClient client;
  for (int i = 0; i < 5; ++i) EXPECT_EQ(client.send({.url = s.url("/hello")}).status, 200);
  EXPECT_EQ(client.handles_created(), 1u);
  std::lock_guard lock(s.mutex);
  EXPECT_EQ(s.remote_ports.size(), 1u) << "each request opened a new connection";
}

TEST(HttpClient, TimeoutIsATransportErrorOfKindTimeout) {
  LocalServer s;
  HttpClient client;
  try {
    client.send({.url = s.url("/slow"), .timeout = 300ms});
    FAIL() << "expected a timeout";
  } catch (const TransportError& e) {
    EXPECT_EQ(e.kind(), TransportError::Kind::kTimeout) << e.what();
  }
}

TEST(HttpClient, RefusedConnectionIsOfKindConnect) {
  // Bind a port and close it again: nothing listens there now.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  const int port = ntohs(addr.sin_port);
  ::close(fd);
  HttpClient client;
  try {
    client.send({.url = "http://127.0.0.1:" + std::to_string(port) + "/", .connect_timeout = 1s});
    FAIL() << "expected a connect error";
  } catch (const TransportError& e) {
    EXPECT_EQ(e.kind(), TransportError::Kind::kConnect) << e.what();
  }
}

TEST(HttpClient, StreamsTheBodyPieceByPiece) {
  LocalServer s;
  HttpClient client;
  std::vector<std::string> pieces;
  long seen_status = 0;
  auto r = client.send(
      {.url = s.url("/stream"),
       .on_body =
           [&](std::string_view piece) {
             pieces.emplace_back(piece);
             return true;
           },
       .on_headers = [&](long status, const shared::http::HeaderList&) { seen_status = status; }});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(seen_status, 200);
  EXPECT_TRUE(r.body.empty());
  std::string all;
  for (auto& p : pieces) all += p;
  EXPECT_EQ(all, "chunk\nchunk\nchunk\nchunk\nchunk\n");
  EXPECT_GE(pieces.size(), 2u) << "the body arrived in one piece, not streamed";
}

TEST(HttpClient, CallerCanAbortAStream) {
  LocalServer s;
  HttpClient client;
  int calls = 0;
  try {
    client.send(
        {.url = s.url("/stream"), .on_body = [&](std::string_view) { return ++calls < 2; }});
    FAIL() << "expected an abort";
  } catch (const TransportError& e) {
    EXPECT_EQ(e.kind(), TransportError::Kind::kAborted);
  }
  EXPECT_EQ(calls, 2);
  // The client is still usable afterwards.
  EXPECT_EQ(client.send({.url = s.url("/hello")}).status, 200);
}

TEST(HttpClient, TlsCertificatesAreVerified) {
  // A self-signed certificate made for this test: the client must refuse it by default.
  const std::string dir = "/tmp/http_client_test_tls_" + std::to_string(::getpid());
  const std::string cmd =
      "mkdir -p " + dir +
      " && openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 " +
      "-addext subjectAltName=IP:127.0.0.1 -keyout " + dir + "/key.pem -out " + dir +
      "/cert.pem >/dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  httplib::SSLServer tls((dir + "/cert.pem").c_str(), (dir + "/key.pem").c_str());
  tls.Get("/", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("secret", "text/plain");
  });
  const int port = tls.bind_to_any_port("127.0.0.1");
  std::thread t([&] { tls.listen_after_bind(); });
  while (!tls.is_running()) std::this_thread::sleep_for(1ms);
  const std::string url = "https://127.0.0.1:" + std::to_string(port) + "/";
  {
    HttpClient strict;
    try {
      strict.send({.url = url});
      ADD_FAILURE() << "a self-signed certificate was accepted";
    } catch (const TransportError& e) {
      EXPECT_EQ(e.kind(), TransportError::Kind::kTls) << e.what();
    }
  }
  {
    HttpClient trusting({.ca_file = dir + "/cert.pem"});
    EXPECT_EQ(trusting.send({.url = url}).body, "secret");
  }
  tls.stop();
  t.join();
  std::system(("rm -rf " + dir).c_str());
}

TEST(UrlEncoding, RoundTripsReservedCharacters) {
  EXPECT_EQ(shared::http::url_encode("a b/c:d?e=f&g~h"), "a%20b%2Fc%3Ad%3Fe%3Df%26g~h");
  EXPECT_EQ(shared::http::url_decode("a%20b%2Fc%3Ad+e"), "a b/c:d e");
  EXPECT_EQ(shared::http::url_decode("bad%zz%4"), "bad%zz%4");
}

}  // namespace
