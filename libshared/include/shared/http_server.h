// An HTTP service on cpp-httplib with what every executable needs: JSON errors, body and header
// limits, request ids (on every log line written while a request is served), access logs,
// /healthz, /readyz, /metrics, and a graceful stop that stops accepting, lets in-flight requests
// finish and gives up after the drain time.
//
// The library (Debian's 0.11.4) reads a request's headers without a bound on their count or
// total size before any hook runs; the limits here are checked after. A service on it must be
// reachable only from trusted peers on localhost (the agent, behind the app).
#pragma once

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "shared/config.h"
#include "shared/http_error.h"
#include "shared/metrics.h"

namespace shared::http {

struct ServerConfig {
  ListenAddress listen;
  std::size_t threads = 32;
  std::size_t max_body_bytes = 1024 * 1024;
  std::size_t max_header_bytes = 16 * 1024;
  std::size_t max_header_count = 64;
  std::chrono::seconds read_timeout{15};
  std::chrono::seconds write_timeout{15};
  std::chrono::seconds keep_alive_timeout{5};
  std::chrono::milliseconds drain_timeout{20'000};
};

// Reads PREFIX_LISTEN, PREFIX_THREADS, PREFIX_MAX_BODY, PREFIX_MAX_HEADER_BYTES,
// PREFIX_MAX_HEADERS, PREFIX_READ_TIMEOUT, PREFIX_WRITE_TIMEOUT, PREFIX_DRAIN_TIMEOUT.
ServerConfig read_server_config(const ConfigSource& source, const std::string& prefix,
                                const std::string& default_listen);

void send_json(httplib::Response& res, int status, const nlohmann::json& body);
void send_error(httplib::Response& res, int status, const std::string& code,
                const std::string& message);
// Parses a JSON object body or throws HttpError 400 (415 when the content type is not JSON).
nlohmann::json parse_json_body(const httplib::Request& req);

// Readiness: each named check returns an empty string when fine, or why it is not.
using ReadinessCheck = std::function<std::string()>;

class HttpService {
 public:
  HttpService(std::string name, ServerConfig config, MetricsRegistry& metrics);
  ~HttpService();
  HttpService(const HttpService&) = delete;
  HttpService& operator=(const HttpService&) = delete;

  // Where handlers are added. /healthz, /readyz and /metrics are already there.
  httplib::Server& routes() { return server_; }
  void add_readiness_check(std::string name, ReadinessCheck check);

  // Binds the listen address; returns the port (useful with port 0).
  int bind();
  int port() const { return port_; }
  // Serves until stop(); returns true when every in-flight request finished within the drain
  // time. On false the requests still running keep their threads: the destructor waits for
  // them, so a main that must end now calls shared::abandon_in_flight_work_and_exit() instead of
  // returning. A stop() that came before serve() (a signal during start-up) is honoured.
  bool serve();
  // Stops accepting and starts draining; safe from any thread, more than once.
  void stop();
  bool stopping() const { return stopping_.load(); }

 private:
  void install_defaults();
  // Repeats the library's stop until the listener thread has ended, or the deadline passes
  // (false).
  bool wait_for_listener(std::chrono::steady_clock::time_point deadline);

  std::string name_;
  ServerConfig config_;
  MetricsRegistry& metrics_;
  httplib::Server server_;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;
  std::condition_variable cv_;
  bool finished_ = false;
  std::chrono::steady_clock::time_point stop_requested_at_{};
  std::vector<std::pair<std::string, ReadinessCheck>> readiness_;
  std::thread listener_;
};

}  // namespace shared::http
