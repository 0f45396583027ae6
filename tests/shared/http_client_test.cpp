#include "shared/http_client.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdlib>
#include <filesystem>
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
    // One piece of the body, then nothing until the test ends (or 10 s pass).
    server.Get("/stall", [this](const httplib::Request&, httplib::Response& res) {
      res.set_chunked_content_provider("text/plain",
                                       [this](size_t offset, httplib::DataSink& sink) {
                                         if (offset == 0) {
                                           sink.write("first\n", 6);
                                           return true;
                                         }
                                         std::unique_lock lock(mutex);
                                         cv.wait_for(lock, 10s, [this] { return closing; });
                                         sink.done();
                                         return true;
                                       });
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
    {
      std::lock_guard lock(mutex);
      closing = true;
    }
    cv.notify_all();
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
  std::condition_variable cv;
  bool closing = false;
  std::set<int> remote_ports;
};

// A certificate and key made with the openssl command for this test, removed afterwards.
class TestCertificate {
 public:
  // subject_alt_name as openssl's -addext takes it, such as "IP:127.0.0.1" or "DNS:x.example".
  TestCertificate(const std::string& common_name, const std::string& subject_alt_name) {
    char tmpl[] = "/tmp/http_client_test_tls_XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    const std::string cmd =
        "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=" + common_name +
        " -addext subjectAltName=" + subject_alt_name + " -keyout " + key() + " -out " + cert() +
        " >/dev/null 2>&1";
    ok_ = std::system(cmd.c_str()) == 0;
  }
  ~TestCertificate() { std::filesystem::remove_all(dir_); }
  bool ok() const { return ok_; }
  std::string cert() const { return dir_ + "/cert.pem"; }
  std::string key() const { return dir_ + "/key.pem"; }

 private:
  std::string dir_;
  bool ok_ = false;
};

class LocalTlsServer {
 public:
  explicit LocalTlsServer(const TestCertificate& c) : server(c.cert().c_str(), c.key().c_str()) {
    server.Get("/", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("secret", "text/plain");
    });
    port = server.bind_to_any_port("127.0.0.1");
    thread = std::thread([this] { server.listen_after_bind(); });
    while (!server.is_running()) std::this_thread::sleep_for(1ms);
  }
  ~LocalTlsServer() {
    server.stop();
    thread.join();
  }
  std::string url() const { return "https://127.0.0.1:" + std::to_string(port) + "/"; }

  httplib::SSLServer server;
  int port = 0;
  std::thread thread;
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
  TestCertificate cert("127.0.0.1", "IP:127.0.0.1");
  ASSERT_TRUE(cert.ok());
  LocalTlsServer tls(cert);
  {
    HttpClient strict;
    try {
      strict.send({.url = tls.url()});
      ADD_FAILURE() << "a self-signed certificate was accepted";
    } catch (const TransportError& e) {
      EXPECT_EQ(e.kind(), TransportError::Kind::kTls) << e.what();
    }
  }
  {
    HttpClient trusting({.ca_file = cert.cert()});
    EXPECT_EQ(trusting.send({.url = tls.url()}).body, "secret");
  }
}

TEST(HttpClient, ATrustedCertificateForAnotherHostNameIsRefused) {
  // Trusted (it is its own CA here) but issued to another name than the one connected to.
  TestCertificate cert("other.example", "DNS:other.example");
  ASSERT_TRUE(cert.ok());
  LocalTlsServer tls(cert);
  HttpClient client({.ca_file = cert.cert()});
  try {
    client.send({.url = tls.url()});
    FAIL() << "a certificate for other.example was accepted for 127.0.0.1";
  } catch (const TransportError& e) {
    EXPECT_EQ(e.kind(), TransportError::Kind::kTls) << e.what();
  }
}

TEST(HttpClient, AStreamThatStallsEndsWithATimeout) {
  LocalServer s;
  HttpClient client;
  std::string received;
  const auto t0 = std::chrono::steady_clock::now();
  try {
    client.send({.url = s.url("/stall"),
                 .timeout = 0ms,  // no limit on the whole exchange: only the stall ends it
                 .stall_timeout = 1s,
                 .on_body = [&](std::string_view piece) {
                   received += piece;
                   return true;
                 }});
    FAIL() << "a stalled stream did not time out";
  } catch (const TransportError& e) {
    EXPECT_EQ(e.kind(), TransportError::Kind::kTimeout) << e.what();
  }
  EXPECT_EQ(received, "first\n");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
}

// libcurl is C: an exception must not unwind through it. The client catches it inside the
// callback, aborts the transfer and rethrows it from send(), and the handle is freed (LeakSanitizer
// fails this test if it is not).
TEST(HttpClient, AnExceptionFromTheBodyCallbackComesOutOfSendUnchanged) {
  LocalServer s;
  HttpClient client;
  try {
    client.send({.url = s.url("/stream"), .on_body = [](std::string_view) -> bool {
                   throw std::domain_error("the consumer gave up");
                 }});
    FAIL() << "the exception was swallowed";
  } catch (const std::domain_error& e) {
    EXPECT_STREQ(e.what(), "the consumer gave up");
  }
  EXPECT_EQ(client.send({.url = s.url("/hello")}).status, 200);  // still usable
}

TEST(HttpClient, AnExceptionFromTheHeadersCallbackComesOutOfSendUnchanged) {
  LocalServer s;
  HttpClient client;
  int body_calls = 0;
  try {
    client.send({.url = s.url("/stream"),
                 .on_body =
                     [&](std::string_view) {
                       ++body_calls;
                       return true;
                     },
                 .on_headers =
                     [](long, const shared::http::HeaderList&) {
                       throw std::out_of_range("unexpected status");
                     }});
    FAIL() << "the exception was swallowed";
  } catch (const std::out_of_range& e) {
    EXPECT_STREQ(e.what(), "unexpected status");
  }
  EXPECT_EQ(body_calls, 0);
  // A body that comes in one piece, where on_headers runs after curl has returned.
  try {
    client.send({.url = s.url("/hello"), .on_headers = [](long, const shared::http::HeaderList&) {
                   throw std::out_of_range("after the fact");
                 }});
    FAIL() << "the exception was swallowed";
  } catch (const std::out_of_range& e) {
    EXPECT_STREQ(e.what(), "after the fact");
  }
}

// Proxies are not configured anywhere, so the environment's must not be used either: the
// environment is read only by the config.
TEST(HttpClient, ProxyEnvironmentVariablesAreIgnored) {
  LocalServer s;
  // Nothing listens on the "proxy": a client that used it would fail to connect.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  const std::string proxy = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  for (const char* name : {"http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"})
    ::setenv(name, proxy.c_str(), 1);
  ::unsetenv("NO_PROXY");
  ::unsetenv("no_proxy");
  HttpClient client;
  std::string error;
  long status = 0;
  try {
    status = client.send({.url = s.url("/hello"), .connect_timeout = 2s}).status;
  } catch (const TransportError& e) {
    error = e.what();
  }
  for (const char* name : {"http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"})
    ::unsetenv(name);
  EXPECT_EQ(status, 200) << error;
}

TEST(UrlEncoding, RoundTripsReservedCharacters) {
  EXPECT_EQ(shared::http::url_encode("a b/c:d?e=f&g~h"), "a%20b%2Fc%3Ad%3Fe%3Df%26g~h");
  EXPECT_EQ(shared::http::url_decode("a%20b%2Fc%3Ad+e"), "a b/c:d e");
  EXPECT_EQ(shared::http::url_decode("bad%zz%4"), "bad%zz%4");
}

}  // namespace
