#include "shared/http_server.h"

#include <chrono>

#include "shared/logging.h"

namespace shared::http {
namespace {

// The request a worker thread is serving: opened by the pre-routing handler (or, for a request
// the library refuses before routing, by the error handler or the logger) and closed by the
// logger once the response is written. Its id is the thread's log request id meanwhile.
struct RequestContext {
  bool open = false;
  std::string request_id;
  std::chrono::steady_clock::time_point started;
};
thread_local RequestContext t_context;

const char* status_code_name(int status) {
  switch (status) {
    case 400:
      return "bad_request";
    case 401:
      return "unauthorized";
    case 403:
      return "forbidden";
    case 404:
      return "not_found";
    case 405:
      return "method_not_allowed";
    case 408:
      return "request_timeout";
    case 409:
      return "conflict";
    case 413:
      return "payload_too_large";
    case 414:
      return "uri_too_long";
    case 415:
      return "unsupported_media_type";
    case 429:
      return "rate_limited";
    case 431:
      return "headers_too_large";
    case 502:
      return "bad_gateway";
    case 503:
      return "unavailable";
    case 504:
      return "gateway_timeout";
    default:
      return status >= 500 ? "internal" : "error";
  }
}

// The method as a metric label: the library fills it in from the request line before it checks
// it, so a refused request could otherwise add a series per made-up method.
std::string method_label(const std::string& method) {
  static const char* const kKnown[] = {"GET",     "HEAD",    "POST",  "PUT",   "DELETE",
                                       "CONNECT", "OPTIONS", "TRACE", "PATCH", "PRI"};
  for (const char* known : kKnown)
    if (method == known) return method;
  return "OTHER";
}

std::string request_id_for(const httplib::Request& req) {
  std::string id = req.get_header_value("X-Request-Id");
  return log::plausible_request_id(id) ? id : log::new_request_id();
}

void open_request(std::string id) {
  log::set_thread_request_id(id);
  t_context = RequestContext{true, std::move(id), std::chrono::steady_clock::now()};
}

void close_request() {
  t_context.open = false;
  t_context.request_id.clear();
  log::set_thread_request_id("");
}

}  // namespace

std::string error_body(const std::string& code, const std::string& message) {
  return nlohmann::json{{"error", {{"code", code}, {"message", message}}}}.dump(
      -1, ' ', false, nlohmann::json::error_handler_t::replace);
}

ServerConfig read_server_config(const ConfigSource& source, const std::string& prefix,
                                const std::string& default_listen) {
  ServerConfig c;
  c.listen = source.listen(prefix + "_LISTEN", default_listen);
  c.threads = static_cast<std::size_t>(source.integer(prefix + "_THREADS", 32, 1, 1024));
  c.max_body_bytes = source.size(prefix + "_MAX_BODY", 1024 * 1024, 1024, 1024ull * 1024 * 1024);
  c.max_header_bytes = source.size(prefix + "_MAX_HEADER_BYTES", 16 * 1024, 1024, 1024 * 1024);
  c.max_header_count =
      static_cast<std::size_t>(source.integer(prefix + "_MAX_HEADERS", 64, 8, 1000));
  c.read_timeout = std::chrono::duration_cast<std::chrono::seconds>(
      source.duration(prefix + "_READ_TIMEOUT", std::chrono::seconds(15), std::chrono::seconds(1)));
  c.write_timeout = std::chrono::duration_cast<std::chrono::seconds>(source.duration(
      prefix + "_WRITE_TIMEOUT", std::chrono::seconds(15), std::chrono::seconds(1)));
  c.drain_timeout = source.duration(prefix + "_DRAIN_TIMEOUT", std::chrono::seconds(20),
                                    std::chrono::milliseconds(0), std::chrono::minutes(10));
  return c;
}

void send_json(httplib::Response& res, int status, const nlohmann::json& body) {
  res.status = status;
  res.set_content(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                  "application/json");
}

void send_error(httplib::Response& res, int status, const std::string& code,
                const std::string& message) {
  res.status = status;
  res.set_content(error_body(code, message), "application/json");
}

nlohmann::json parse_json_body(const httplib::Request& req) {
  const std::string type = req.get_header_value("Content-Type");
  if (!req.body.empty() && type.rfind("application/json", 0) != 0)
    throw HttpError(415, "unsupported_media_type", "the body must be application/json");
  if (req.body.empty()) return nlohmann::json::object();
  auto j = nlohmann::json::parse(req.body, nullptr, false);
  if (j.is_discarded()) throw bad_request("the body is not valid JSON");
  if (!j.is_object()) throw bad_request("the body must be a JSON object");
  return j;
}

HttpService::HttpService(std::string name, ServerConfig config, MetricsRegistry& metrics)
    : name_(std::move(name)), config_(std::move(config)), metrics_(metrics) {
  install_defaults();
}

HttpService::~HttpService() {
  stop();
  // After serve() gave up, requests may still be running on the listener's threads: wait for
  // them, so that no thread outlives the object it uses.
  if (listener_.joinable()) {
    wait_for_listener(std::chrono::steady_clock::time_point::max());
    listener_.join();
  }
}

void HttpService::add_readiness_check(std::string name, ReadinessCheck check) {
  readiness_.emplace_back(std::move(name), std::move(check));
}

void HttpService::install_defaults() {
  const std::size_t threads = config_.threads;
  server_.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  server_.set_payload_max_length(config_.max_body_bytes);
  server_.set_read_timeout(config_.read_timeout.count(), 0);
  server_.set_write_timeout(config_.write_timeout.count(), 0);
  server_.set_keep_alive_timeout(config_.keep_alive_timeout.count());
  // Small JSON responses must not wait for Nagle's algorithm against the peer's delayed ACK
  // (measured: ~40 ms per request on keep-alive connections without it).
  server_.set_tcp_nodelay(true);

  // Registered now so that /metrics shows the (empty) histogram from the start; the request
  // counter's series carry method and status and appear with the first request.
  metrics_.histogram("http_request_duration_seconds", "HTTP request duration", latency_buckets(),
                     {{"service", name_}});

  server_.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    open_request(request_id_for(req));
    res.set_header("X-Request-Id", t_context.request_id);
    // Limits the compiled library cannot be told about: header count and total header size, and
    // chunked request bodies, whose length the library does not bound before buffering.
    std::size_t header_bytes = 0;
    for (const auto& [k, v] : req.headers) header_bytes += k.size() + v.size() + 4;
    if (req.headers.size() > config_.max_header_count || header_bytes > config_.max_header_bytes) {
      send_error(res, 431, "headers_too_large", "request headers exceed the limit");
      return httplib::Server::HandlerResponse::Handled;
    }
    if (req.has_header("Transfer-Encoding")) {
      send_error(res, 411, "length_required",
                 "chunked request bodies are not accepted; send Content-Length");
      return httplib::Server::HandlerResponse::Handled;
    }
    if (req.has_header("Content-Length")) {
      const std::string cl = req.get_header_value("Content-Length");
      char* end = nullptr;
      const unsigned long long n = std::strtoull(cl.c_str(), &end, 10);
      if (cl.empty() || *end != '\0' || req.get_header_value_count("Content-Length") > 1) {
        send_error(res, 400, "bad_request", "invalid Content-Length");
        return httplib::Server::HandlerResponse::Handled;
      }
      if (n > config_.max_body_bytes) {
        send_error(
            res, 413, "payload_too_large",
            "the body exceeds the limit of " + std::to_string(config_.max_body_bytes) + " bytes");
        return httplib::Server::HandlerResponse::Handled;
      }
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });

  server_.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
        try {
          std::rethrow_exception(ep);
        } catch (const HttpError& e) {
          send_error(res, e.status(), e.code(), e.what());
        } catch (const std::exception& e) {
          log::error("unhandled exception in handler", {{"error", e.what()}});
          send_error(res, 500, "internal", "internal error");
        } catch (...) {
          log::error("unhandled non-standard exception in handler");
          send_error(res, 500, "internal", "internal error");
        }
      });

  server_.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    // The library refused this request before routing (a bad request line, a URI over its
    // limit): it is a request of its own, not the one this thread served last.
    if (!t_context.open) {
      open_request(request_id_for(req));
      res.set_header("X-Request-Id", t_context.request_id);
    }
    if (!res.body.empty()) return;
    std::string message = status_code_name(res.status);
    for (auto& c : message) c = c == '_' ? ' ' : c;
    send_error(res, res.status, status_code_name(res.status), message);
  });

  server_.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
    if (!t_context.open) open_request(request_id_for(req));
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t_context.started).count();
    metrics_
        .counter("http_requests_total", "HTTP requests served",
                 {{"service", name_},
                  {"method", method_label(req.method)},
                  {"status", std::to_string(res.status)}})
        .inc();
    metrics_
        .histogram("http_request_duration_seconds", "HTTP request duration", latency_buckets(),
                   {{"service", name_}})
        .observe(seconds);
    if (req.path != "/healthz" && req.path != "/metrics" && req.path != "/readyz") {
      log::info("request", {{"method", req.method},
                            {"path", req.path},
                            {"status", res.status},
                            {"duration_ms", static_cast<std::int64_t>(seconds * 1000)},
                            {"remote", req.remote_addr}});
    }
    close_request();
  });

  server_.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    send_json(res, 200, {{"status", "ok"}});
  });
  server_.Get("/readyz", [this](const httplib::Request&, httplib::Response& res) {
    nlohmann::json checks = nlohmann::json::object();
    bool ok = !stopping_.load();
    for (const auto& [name, check] : readiness_) {
      std::string problem;
      try {
        problem = check();
      } catch (const std::exception& e) {
        problem = e.what();
      }
      checks[name] = problem.empty() ? "ok" : problem;
      if (!problem.empty()) ok = false;
    }
    send_json(res, ok ? 200 : 503, {{"status", ok ? "ready" : "not_ready"}, {"checks", checks}});
  });
  server_.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics_.render(), "text/plain; version=0.0.4");
  });
}

int HttpService::bind() {
  const auto& l = config_.listen;
  if (l.port == 0) {
    port_ = server_.bind_to_any_port(l.host);
  } else {
    port_ = server_.bind_to_port(l.host, l.port) ? l.port : -1;
  }
  if (port_ < 0) throw std::runtime_error("cannot listen on " + l.to_string());
  return port_;
}

bool HttpService::serve() {
  listener_ = std::thread([this] {
    server_.listen_after_bind();
    std::lock_guard lock(mutex_);
    finished_ = true;
    cv_.notify_all();
  });
  log::info("listening", {{"address", config_.listen.host + ":" + std::to_string(port_)}});
  std::chrono::steady_clock::time_point deadline;
  {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [this] { return finished_ || stopping_.load(); });
    deadline = stop_requested_at_ + config_.drain_timeout;
  }
  if (!wait_for_listener(deadline)) {
    // The listener stays joinable: the destructor waits for it, and a main that must stop now
    // calls abandon_in_flight_work_and_exit() before destroying anything.
    log::warn("drain time ran out with requests in flight",
              {{"drain_ms", static_cast<std::int64_t>(config_.drain_timeout.count())}});
    return false;
  }
  listener_.join();
  return true;
}

bool HttpService::wait_for_listener(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(mutex_);
  while (!finished_) {
    if (stopping_.load()) {
      // The library ignores stop() until its accept loop runs; a stop that came earlier (a
      // signal during start-up) is repeated until the loop has seen it. Repeating it later
      // is harmless: the socket is already closed.
      lock.unlock();
      server_.stop();
      lock.lock();
    }
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return finished_;
    cv_.wait_until(lock, std::min(deadline, now + std::chrono::milliseconds(20)),
                   [this] { return finished_; });
  }
  return true;
}

void HttpService::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_.exchange(true)) return;
    stop_requested_at_ = std::chrono::steady_clock::now();
    cv_.notify_all();
  }
  server_.stop();
}

}  // namespace shared::http
