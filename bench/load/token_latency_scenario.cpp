// token-latency: the added latency from a token leaving the fake Bedrock to it reaching a hub
// subscriber, through the real agent (ConverseStream decoding, turn engine, coalescing window,
// Mercure publisher) and the real hub. One session, one subscriber on its topic; turns run one
// after another: script a "clock" answer on the fake, send a message, wait for turn.done.
#include <cmath>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

#include "hs256_token.h"
#include "http_call.h"
#include "loopback_socket.h"
#include "process_sampler.h"
#include "pubsub_protocol.h"
#include "scenarios.h"
#include "token_stream_subscriber.h"

namespace bench {
namespace {

nlohmann::json percentiles(const LatencyHistogram& h) {
  return {{"count", h.count()},          {"min", h.min()},
          {"p50", h.percentile(0.5)},    {"p90", h.percentile(0.9)},
          {"p99", h.percentile(0.99)},   {"max", h.max()},
          {"mean", std::round(h.mean())}};
}

// Calls and returns the JSON body; throws unless the status is `expected`.
nlohmann::json call_json(HttpCall call, int expected) {
  const HttpCallResult result = http_call(call);
  if (result.status != expected) {
    throw std::runtime_error(call.method + " " + call.path + ": " +
                             (result.status ? "status " + std::to_string(result.status) + " " +
                                                  result.body.substr(0, 200)
                                            : result.error));
  }
  return nlohmann::json::parse(result.body, nullptr, false);
}

}  // namespace

nlohmann::json run_token_latency(const LoadOptions& options) {
  const int agent_port = static_cast<int>(options.integer("agent-port", 0, 0, 65535));
  const int hub_port = static_cast<int>(options.integer("hub-port", 0, 0, 65535));
  const int bedrock_port = static_cast<int>(options.integer("bedrock-port", 0, 0, 65535));
  const std::string subscriber_key = options.text("subscriber-key", "");
  const std::string user = options.text("user", "bench-user");
  const int turns = static_cast<int>(options.integer("turns", 20, 1, 100'000));
  const int warmup_turns = static_cast<int>(options.integer("warmup-turns", 1, 0, 1000));
  const int tokens = static_cast<int>(options.integer("tokens", 100, 1, 100'000));
  const int delay_ms = static_cast<int>(options.integer("delay-ms", 5, 0, 10'000));
  const int turn_timeout_ms =
      static_cast<int>(options.integer("turn-timeout-ms", 60'000, 100, 3'600'000));
  const ProcessSampler sampler(options.integers("server-pid"));
  options.reject_unknown();
  if (agent_port == 0 || hub_port == 0 || bedrock_port == 0) {
    throw OptionError("--agent-port, --hub-port and --bedrock-port are required");
  }
  if (subscriber_key.empty())
    throw OptionError("--subscriber-key: the hub's subscriber key is required");
  const uint32_t loopback = loopback_address(1);
  const std::string user_header = "X-User-Id: " + user;

  const nlohmann::json session = call_json({.destination = loopback,
                                            .port = agent_port,
                                            .method = "POST",
                                            .path = "/v1/sessions",
                                            .headers = {user_header},
                                            .body = R"({"title":"token latency"})"},
                                           201);
  if (!session.is_object() || !session.contains("id") || !session["id"].is_string()) {
    throw std::runtime_error("POST /v1/sessions: no session id in the answer");
  }
  const std::string session_id = session["id"].get<std::string>();
  const std::string topic = "/users/" + user + "/sessions/" + session_id;
  ProtocolOptions protocol_options;
  protocol_options.subscribe_port = hub_port;
  protocol_options.subscriber_key = subscriber_key;
  const auto protocol = make_protocol("hub", protocol_options);
  TokenStreamSubscriber subscriber(loopback, hub_port, protocol->subscribe_request(topic, ""),
                                   10'000);

  const std::string script =
      nlohmann::json::array({{{"kind", "clock"}, {"tokens", tokens}, {"delay_ms", delay_ms}}})
          .dump();
  int ended = 0;
  int failed = 0;
  std::string first_problem;
  ProcessUsage usage_start;
  int64_t started_ns = 0;
  for (int turn = 0; turn < warmup_turns + turns; ++turn) {
    if (turn == warmup_turns) {
      subscriber.start_measuring();
      usage_start = sampler.sample();
      started_ns = monotonic_ns();
    }
    call_json({.destination = loopback,
               .port = bedrock_port,
               .method = "POST",
               .path = "/_fake/script",
               .body = script},
              200);
    const nlohmann::json accepted =
        call_json({.destination = loopback,
                   .port = agent_port,
                   .method = "POST",
                   .path = "/v1/sessions/" + session_id + "/messages",
                   .headers = {user_header},
                   .body = nlohmann::json{{"text", "turn " + std::to_string(turn)}}.dump()},
                  202);
    const std::string turn_id = accepted.value("turn_id", std::string());
    const std::string end = subscriber.wait_for_turn_end(turn_id, turn_timeout_ms);
    if (turn < warmup_turns) continue;
    if (end == "turn.done") {
      ++ended;
    } else {
      ++failed;
      if (first_problem.empty())
        first_problem = end.empty() ? "turn " + turn_id + " did not end in time" : end;
      if (end.empty()) break;  // the next message would get 409 while this turn runs
    }
  }
  const double seconds = static_cast<double>(monotonic_ns() - started_ns) / 1e9;
  const ProcessUsage usage_end = sampler.sample();
  const TokenStreamReport report = subscriber.finish();
  const int64_t expected = static_cast<int64_t>(turns) * tokens;
  return {{"scenario", "token-latency"},
          {"turns", turns},
          {"warmup_turns", warmup_turns},
          {"tokens_per_turn", tokens},
          {"delay_ms", delay_ms},
          {"turns_done", ended},
          {"turns_failed", failed},
          {"problem", first_problem.empty() ? report.error : first_problem},
          {"expected_tokens", expected},
          {"delivered_tokens", report.tokens},
          {"text_updates", report.text_updates},
          {"other_updates", report.other_updates},
          {"unreadable_updates", report.unreadable_updates},
          {"seconds", seconds},
          {"latency_us", percentiles(report.token_latency_us)},
          {"newest_token_latency_us", percentiles(report.newest_token_latency_us)},
          {"server_cpu_cores",
           seconds > 0 ? (usage_end.cpu_seconds - usage_start.cpu_seconds) / seconds : 0.0}};
}

}  // namespace bench
