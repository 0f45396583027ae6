#include "request_log.h"

#include <chrono>

#include "shared/logging.h"

namespace app {

std::string method_label(const std::string& method) {
  for (const char* known : {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
    if (method == known) return method;
  return "OTHER";
}

void record_request(shared::MetricsRegistry& metrics, const std::string& service,
                    const Request& req, int status) {
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - req.started).count();
  metrics
      .counter("http_requests_total", "HTTP requests served",
               {{"service", service},
                {"method", method_label(req.method)},
                {"status", std::to_string(status)}})
      .inc();
  metrics
      .histogram("http_request_duration_seconds", "HTTP request duration",
                 shared::latency_buckets(), {{"service", service}})
      .observe(seconds);
  if (req.path == "/healthz" || req.path == "/metrics" || req.path == "/readyz") return;
  shared::log::RequestScope scope(req.request_id);
  shared::log::info("request", {{"method", req.method.substr(0, 16)},
                                {"path", req.path.substr(0, 256)},
                                {"status", status},
                                {"duration_ms", static_cast<std::int64_t>(seconds * 1000)},
                                {"remote", req.remote_addr}});
}

}  // namespace app
