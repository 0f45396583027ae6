// deliver and storm: subscribers in shard processes, publishing from this process.
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "latency_histogram.h"
#include "loopback_socket.h"
#include "process_sampler.h"
#include "pubsub_protocol.h"
#include "request_driver.h"
#include "scenarios.h"
#include "shard_pool.h"

namespace bench {
namespace {

using nlohmann::json;

// Beyond this a source address nears its ~28k ephemeral ports towards one server port.
constexpr long long kSubscribersPerSource = 20'000;
// Under the 20k open-files limit with room for the process's own files.
constexpr long long kMaxShardSize = 19'000;

struct PubSubSetup {
  std::string server;
  std::unique_ptr<PubSubProtocol> protocol;
  std::vector<SubscriberSpec> subscribers;
  std::vector<uint64_t> readers_per_topic;  // subscribers that keep reading, per topic index
  std::vector<std::string> topics;
  ProcessSampler sampler{{}};
  RequestDriverSettings publish;
  std::string payload_padding;
  long long shard_size = 15'000;
  int max_pending = 512;
  int connect_timeout_ms = 15'000;
  int slow_receive_buffer = 4096;
};

std::string topic_name(const std::string& format, long long index) {
  std::string out = format;
  const auto at = out.find("{i}");
  if (at == std::string::npos) return out + std::to_string(index);
  std::string result;
  std::size_t start = 0;
  std::size_t next = 0;
  while ((next = out.find("{i}", start)) != std::string::npos) {
    result += out.substr(start, next - start) + std::to_string(index);
    start = next + 3;
  }
  return result + out.substr(start);
}

PubSubSetup read_setup(const LoadOptions& options, long long default_topics) {
  PubSubSetup setup;
  setup.server = options.text("server", "hub");
  ProtocolOptions protocol;
  protocol.host = options.text("host", "127.0.0.1");
  std::vector<int> ports = options.integers("ports");
  if (ports.empty()) throw OptionError("--ports: at least one server port is required");
  protocol.subscribe_port = ports.front();
  protocol.publish_port =
      static_cast<int>(options.integer("publish-port", ports.front(), 1, 65535));
  protocol.publisher_key = options.text("publisher-key", "");
  protocol.subscriber_key = options.text("subscriber-key", "");
  protocol.private_updates = options.flag("private");
  setup.protocol = make_protocol(setup.server, protocol);
  if (!setup.protocol) throw OptionError("--server: expected hub, nchan or pushpin");
  const uint32_t destination = parse_ipv4(protocol.host);
  if (destination == 0) throw OptionError("--host: expected an IPv4 address");

  const long long count = options.integer("subscribers", 100, 0, 200'000);
  const long long topic_count =
      options.integer("topics", default_topics < 0 ? count : default_topics, 1, 200'000);
  const std::string format = options.text("topic-format", "bench-{i}");
  const double slow_fraction = options.number("slow-fraction", 0, 0, 1);
  const long long sources = options.integer(
      "sources",
      std::max<long long>(1, (count + kSubscribersPerSource - 1) / kSubscribersPerSource), 1, 200);
  const long long first_source = options.integer("first-source", 2, 1, 254 - sources);
  setup.shard_size = options.integer("shard-size", 15'000, 1, kMaxShardSize);
  setup.max_pending = static_cast<int>(options.integer("max-pending", 512, 1, 100'000));
  setup.connect_timeout_ms =
      static_cast<int>(options.integer("connect-timeout-ms", 15'000, 100, 600'000));
  setup.slow_receive_buffer =
      static_cast<int>(options.integer("slow-receive-buffer", 4096, 1024, 1 << 24));

  for (long long t = 0; t < topic_count; ++t) setup.topics.push_back(topic_name(format, t));
  setup.readers_per_topic.assign(static_cast<std::size_t>(topic_count), 0);
  for (long long i = 0; i < count; ++i) {
    SubscriberSpec spec;
    const auto topic = static_cast<std::size_t>(i % topic_count);
    spec.topic = setup.topics[topic];
    spec.source = loopback_address(static_cast<int>(first_source + i % sources));
    spec.destination = destination;
    spec.port = ports[static_cast<std::size_t>(i) % ports.size()];
    // Spread slow consumers evenly: subscriber i is slow when floor((i+1)f) steps up.
    spec.slow = std::floor(static_cast<double>(i + 1) * slow_fraction) >
                std::floor(static_cast<double>(i) * slow_fraction);
    if (!spec.slow) ++setup.readers_per_topic[topic];
    setup.subscribers.push_back(std::move(spec));
  }

  std::vector<int> pids = options.integers("server-pid");
  setup.sampler = ProcessSampler(pids);

  setup.publish.source = loopback_address(1);
  setup.publish.destination = destination;
  setup.publish.port = protocol.publish_port;
  setup.publish.connections = static_cast<int>(options.integer("publish-connections", 4, 1, 1000));
  setup.publish.request_timeout_ms =
      static_cast<int>(options.integer("publish-timeout-ms", 10'000, 100, 600'000));
  const long long payload = options.integer("payload", 64, 0, 1 << 20);
  setup.payload_padding =
      std::string(static_cast<std::size_t>(std::max<long long>(0, payload - 40)), 'x');
  return setup;
}

std::vector<ShardSettings> split_into_shards(const PubSubSetup& setup) {
  std::vector<ShardSettings> shards;
  for (std::size_t i = 0; i < setup.subscribers.size();
       i += static_cast<std::size_t>(setup.shard_size)) {
    ShardSettings shard;
    const std::size_t end =
        std::min(setup.subscribers.size(), i + static_cast<std::size_t>(setup.shard_size));
    shard.subscribers.assign(setup.subscribers.begin() + static_cast<long>(i),
                             setup.subscribers.begin() + static_cast<long>(end));
    // Share the connect concurrency between shards.
    shard.max_pending_connects = std::max(
        1, setup.max_pending / static_cast<int>((setup.subscribers.size() +
                                                 static_cast<std::size_t>(setup.shard_size) - 1) /
                                                static_cast<std::size_t>(setup.shard_size)));
    shard.connect_timeout_ms = setup.connect_timeout_ms;
    shard.slow_receive_buffer = setup.slow_receive_buffer;
    shards.push_back(std::move(shard));
  }
  return shards;
}

json percentiles(const LatencyHistogram& histogram) {
  return {{"count", histogram.count()},          {"p50", histogram.percentile(0.50)},
          {"p90", histogram.percentile(0.90)},   {"p99", histogram.percentile(0.99)},
          {"p999", histogram.percentile(0.999)}, {"max", histogram.max()},
          {"mean", std::round(histogram.mean())}};
}

json usage_json(const ProcessUsage& usage) {
  return {{"processes", usage.processes},
          {"rss_bytes", usage.rss_bytes},
          {"pss_bytes", usage.pss_bytes},
          {"cpu_seconds", usage.cpu_seconds}};
}

// Waits for every shard's first connect wave; merges counts and setup latencies.
json wait_for_wave(ShardPool& pool, int timeout_ms) {
  const auto waves = pool.collect("connected", timeout_ms);
  uint64_t ok = 0;
  uint64_t failed = 0;
  double seconds = 0;
  LatencyHistogram setup;
  for (const auto& wave : waves) {
    ok += wave.value("ok", uint64_t{0});
    failed += wave.value("failed", uint64_t{0});
    seconds = std::max(seconds, wave.value("seconds", 0.0));
    if (auto h = LatencyHistogram::parse(wave.value("setup_us", std::string{}))) setup.merge(*h);
  }
  return {{"shards_reporting", waves.size()},
          {"shards", pool.size()},
          {"ok", ok},
          {"failed", failed},
          {"seconds", seconds},
          {"per_second", seconds > 0 ? static_cast<double>(ok) / seconds : 0.0},
          {"setup_us", percentiles(setup)}};
}

// Sums shard reports; latency histograms merged.
json merge_reports(const std::vector<json>& reports, LatencyHistogram& latency,
                   LatencyHistogram& catch_up) {
  json total = json::object();
  json errors = json::object();
  for (const auto& report : reports) {
    for (const auto& [key, value] : report.items()) {
      if (!value.is_number_unsigned()) continue;
      const uint64_t sum =
          (total.contains(key) ? total[key].get<uint64_t>() : 0) + value.get<uint64_t>();
      total[key] = sum;
    }
    const json report_errors = report.value("errors", json::object());
    for (const auto& [what, count] : report_errors.items()) {
      if (!count.is_number_unsigned()) continue;
      const uint64_t sum =
          (errors.contains(what) ? errors[what].get<uint64_t>() : 0) + count.get<uint64_t>();
      errors[what] = sum;
    }
    if (auto h = LatencyHistogram::parse(report.value("latency_us", std::string{})))
      latency.merge(*h);
    if (auto h = LatencyHistogram::parse(report.value("catch_up_us", std::string{})))
      catch_up.merge(*h);
  }
  total["errors"] = errors;
  return total;
}

// What the publisher sends: "seq=N ts=NS pad".
struct Publisher {
  const PubSubSetup& setup;
  uint64_t next_seq = 0;
  uint64_t ok_publishes = 0;
  uint64_t expected_deliveries = 0;
  int64_t peak_rss = 0;
  int64_t peak_pss = 0;
  int64_t last_sample_ns = 0;

  RequestDriverResult publish(double rate, double seconds, bool count_expected) {
    RequestDriverSettings settings = setup.publish;
    settings.rate = rate;
    settings.seconds = seconds;
    const uint64_t base = next_seq;
    RequestHooks hooks;
    hooks.build = [&](uint64_t n) {
      const uint64_t seq = base + n;
      next_seq = std::max(next_seq, seq + 1);
      const std::string& topic = setup.topics[seq % setup.topics.size()];
      const std::string data = "seq=" + std::to_string(seq) +
                               " ts=" + std::to_string(monotonic_ns()) + " " +
                               setup.payload_padding;
      return setup.protocol->publish_request(topic, data);
    };
    hooks.on_response = [&](uint64_t n, int status) {
      // A refused publish is not expected to arrive; one that timed out or was still in flight
      // at the end may well have been delivered, so it counts as expected.
      if (status != 0 && (status < 200 || status >= 300)) return;
      if (status != 0) ++ok_publishes;
      if (count_expected)
        expected_deliveries += setup.readers_per_topic[(base + n) % setup.topics.size()];
    };
    hooks.on_tick = [&](int64_t now) {
      // /proc sampling costs a few ms for multi-process servers: twice a second is enough.
      if (setup.sampler.empty() || now - last_sample_ns < 500'000'000) return;
      last_sample_ns = now;
      const ProcessUsage usage = setup.sampler.sample();
      peak_rss = std::max(peak_rss, usage.rss_bytes);
      peak_pss = std::max(peak_pss, usage.pss_bytes);
    };
    return drive_requests(settings, hooks);
  }
};

json publish_json(const RequestDriverResult& result) {
  return {
      {"sent", result.sent},
      {"ok", result.ok},
      {"failed", result.failed},
      {"reconnects", result.reconnects},
      {"seconds", result.elapsed_seconds},
      {"ok_per_second",
       result.elapsed_seconds > 0 ? static_cast<double>(result.ok) / result.elapsed_seconds : 0.0},
      {"outcomes", result.outcomes},
      {"latency_us", percentiles(result.latency_us)},
      {"send_lag_us", percentiles(result.send_lag_us)}};
}

void pause_ms(long long ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

}  // namespace

json run_deliver(const LoadOptions& options) {
  PubSubSetup setup = read_setup(options, -1);
  const std::string rate_text = options.text("rate", "0");
  const bool closed_loop = rate_text == "max";
  const double rate = closed_loop ? 0 : options.number("rate", 0, 0, 10'000'000);
  const double seconds = options.number("seconds", 10, 0.1, 3600);
  const double warmup = options.number("warmup", 1, 0, 600);
  const long long settle_ms = options.integer("settle-ms", 2000, 0, 600'000);
  const long long drain_ms = options.integer("drain-ms", 2000, 0, 600'000);
  const int wave_timeout_ms =
      static_cast<int>(options.integer("wave-timeout-ms", 180'000, 1000, 3'600'000));
  options.reject_unknown();

  json out = {{"scenario", "deliver"},
              {"server", setup.server},
              {"subscribers", setup.subscribers.size()},
              {"topics", setup.topics.size()},
              {"rate", closed_loop ? json("max") : json(rate)}};
  const ProcessUsage before = setup.sampler.sample();
  out["server_before"] = usage_json(before);
  ShardPool pool(*setup.protocol, split_into_shards(setup));
  out["connect"] = wait_for_wave(pool, wave_timeout_ms);
  pause_ms(settle_ms);
  const ProcessUsage connected = setup.sampler.sample();
  out["server_connected"] = usage_json(connected);
  out["kernel_tcp_buffers_connected_bytes"] = kernel_tcp_buffer_bytes();
  const uint64_t ok = out["connect"]["ok"].get<uint64_t>();
  if (ok > 0 && !setup.sampler.empty()) {
    out["rss_per_subscriber_bytes"] =
        static_cast<double>(connected.rss_bytes - before.rss_bytes) / static_cast<double>(ok);
    out["pss_per_subscriber_bytes"] =
        static_cast<double>(connected.pss_bytes - before.pss_bytes) / static_cast<double>(ok);
  }
  if (rate > 0 || closed_loop) {
    Publisher publisher{setup};
    if (warmup > 0) {
      publisher.publish(closed_loop ? 0 : rate, warmup, false);
      pause_ms(std::min<long long>(drain_ms, 500));
      pool.broadcast("reset " + std::to_string(publisher.next_seq));
    }
    publisher.ok_publishes = 0;
    // The generator shares the machine's cores with the server: its own CPU use is reported
    // so that a reader can tell when the client, not the server, was the limit.
    const ProcessSampler generator({static_cast<int>(getpid())});
    const ProcessUsage generator_start = generator.sample();
    const ProcessUsage start = setup.sampler.sample();
    const RequestDriverResult result = publisher.publish(closed_loop ? 0 : rate, seconds, true);
    const ProcessUsage end = setup.sampler.sample();
    const ProcessUsage generator_end = generator.sample();
    out["kernel_tcp_buffers_published_bytes"] = kernel_tcp_buffer_bytes();
    out["generator_cpu_cores"] =
        result.elapsed_seconds > 0
            ? (generator_end.cpu_seconds - generator_start.cpu_seconds) / result.elapsed_seconds
            : 0.0;
    pause_ms(drain_ms);
    const ProcessUsage drained = setup.sampler.sample();
    out["publish"] = publish_json(result);
    out["server_cpu_cores"] = result.elapsed_seconds > 0
                                  ? (end.cpu_seconds - start.cpu_seconds) / result.elapsed_seconds
                                  : 0.0;
    out["server_after"] = usage_json(drained);
    out["server_peak_rss_bytes"] = std::max({publisher.peak_rss, end.rss_bytes, drained.rss_bytes});
    out["server_peak_pss_bytes"] = std::max({publisher.peak_pss, end.pss_bytes, drained.pss_bytes});
    out["expected_deliveries"] = publisher.expected_deliveries;
  }
  LatencyHistogram latency;
  LatencyHistogram catch_up;
  const auto reports = pool.report(30'000);
  out["shards_reporting"] = reports.size();
  out["subscribers_report"] = merge_reports(reports, latency, catch_up);
  out["latency_us"] = percentiles(latency);
  return out;
}

json run_storm(const LoadOptions& options) {
  PubSubSetup setup = read_setup(options, 1);
  const long long before_count = options.integer("before", 5, 1, 100'000);
  const long long missed = options.integer("missed", 10, 1, 100'000);
  const int wave_timeout_ms =
      static_cast<int>(options.integer("wave-timeout-ms", 180'000, 1000, 3'600'000));
  const long long catch_up_timeout_ms =
      options.integer("catch-up-timeout-ms", 60'000, 1000, 3'600'000);
  options.reject_unknown();

  json out = {{"scenario", "storm"},
              {"server", setup.server},
              {"subscribers", setup.subscribers.size()},
              {"resumes", setup.protocol->resumes_from_last_event_id()}};
  ShardPool pool(*setup.protocol, split_into_shards(setup));
  out["connect"] = wait_for_wave(pool, wave_timeout_ms);
  Publisher publisher{setup};
  // Everyone receives a few updates (and so has an id to resume from)...
  out["publish_before"] =
      publish_json(publisher.publish(20, static_cast<double>(before_count) / 20.0, false));
  pause_ms(1000);
  pool.broadcast("drop");
  pause_ms(500);
  // ...then misses some while disconnected...
  out["publish_missed"] =
      publish_json(publisher.publish(50, static_cast<double>(missed) / 50.0, false));
  const uint64_t final_seq = publisher.next_seq - 1;
  pause_ms(200);
  // ...and all come back at once.
  const ProcessUsage start = setup.sampler.sample();
  const int64_t t0 = monotonic_ns();
  pool.broadcast("reconnect " + std::to_string(final_seq) + " " + std::to_string(t0));
  out["reconnect"] = wait_for_wave(pool, wave_timeout_ms);
  const uint64_t reconnected = out["reconnect"]["ok"].get<uint64_t>();
  LatencyHistogram latency;
  LatencyHistogram catch_up;
  json totals;
  const int64_t deadline = t0 + catch_up_timeout_ms * 1'000'000;
  while (true) {
    latency = LatencyHistogram{};
    catch_up = LatencyHistogram{};
    const auto reports = pool.report(10'000);
    totals = merge_reports(reports, latency, catch_up);
    if (totals.value("caught_up", uint64_t{0}) >= reconnected || monotonic_ns() > deadline) break;
    pause_ms(200);
  }
  const ProcessUsage end = setup.sampler.sample();
  out["final_seq"] = final_seq;
  out["subscribers_report"] = totals;
  out["caught_up"] = totals.value("caught_up", uint64_t{0});
  out["catch_up_us"] = percentiles(catch_up);
  out["all_caught_up_seconds"] = out["caught_up"].get<uint64_t>() >= reconnected && reconnected > 0
                                     ? json(static_cast<double>(catch_up.max()) / 1e6)
                                     : json(nullptr);
  out["server_cpu_seconds"] = end.cpu_seconds - start.cpu_seconds;
  out["server_after"] = usage_json(end);
  return out;
}

}  // namespace bench
