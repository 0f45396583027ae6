// request-path: closed-loop GETs against one URL path, for comparing the app's proxy, the agent
// itself and nginx proxy_pass on the same upstream.
#include <cmath>
#include <string>

#include "loopback_socket.h"
#include "process_sampler.h"
#include "request_driver.h"
#include "scenarios.h"

namespace bench {

nlohmann::json run_request_path(const LoadOptions& options) {
  const std::string host = options.text("host", "127.0.0.1");
  const int port = static_cast<int>(options.integer("port", 0, 1, 65535));
  const std::string path = options.text("path", "/");
  const std::string header = options.text("header", "");
  const int connections = static_cast<int>(options.integer("connections", 8, 1, 1000));
  const double seconds = options.number("seconds", 10, 0.1, 3600);
  const double warmup = options.number("warmup", 1, 0, 600);
  const int timeout_ms = static_cast<int>(options.integer("timeout-ms", 10'000, 100, 600'000));
  const ProcessSampler sampler(options.integers("server-pid"));
  options.reject_unknown();
  if (port == 0) throw OptionError("--port: the server port is required");
  const uint32_t destination = parse_ipv4(host);
  if (destination == 0) throw OptionError("--host: expected an IPv4 address");

  const std::string request = "GET " + path + " HTTP/1.1\r\nHost: " + host + ":" +
                              std::to_string(port) + "\r\nAccept: application/json\r\n" +
                              (header.empty() ? std::string{} : header + "\r\n") + "\r\n";
  RequestDriverSettings settings;
  settings.source = loopback_address(1);
  settings.destination = destination;
  settings.port = port;
  settings.connections = connections;
  settings.request_timeout_ms = timeout_ms;
  RequestHooks hooks;
  hooks.build = [&](uint64_t) { return request; };
  if (warmup > 0) {
    settings.seconds = warmup;
    drive_requests(settings, hooks);
  }
  settings.seconds = seconds;
  const ProcessUsage start = sampler.sample();
  const RequestDriverResult result = drive_requests(settings, hooks);
  const ProcessUsage end = sampler.sample();
  const auto& latency = result.latency_us;
  return {
      {"scenario", "request-path"},
      {"path", path},
      {"port", port},
      {"connections", connections},
      {"sent", result.sent},
      {"ok", result.ok},
      {"failed", result.failed},
      {"outcomes", result.outcomes},
      {"seconds", result.elapsed_seconds},
      {"requests_per_second",
       result.elapsed_seconds > 0 ? static_cast<double>(result.ok) / result.elapsed_seconds : 0.0},
      {"latency_us",
       {{"p50", latency.percentile(0.5)},
        {"p99", latency.percentile(0.99)},
        {"max", latency.max()},
        {"mean", std::round(latency.mean())}}},
      {"server_cpu_cores", result.elapsed_seconds > 0
                               ? (end.cpu_seconds - start.cpu_seconds) / result.elapsed_seconds
                               : 0.0}};
}

}  // namespace bench
