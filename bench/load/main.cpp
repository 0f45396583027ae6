// sse_load: the benchmark load generator. One scenario per run, one JSON result on stdout;
// bench/run.sh drives it against our hub and its peers.
#include <signal.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "scenarios.h"

namespace {

void usage() {
  std::fputs(
      "usage: sse_load deliver|storm|request-path|token-latency [--option value ...]\n"
      "  deliver:  --server hub|nchan|pushpin --ports P[,P...] [--publish-port P]\n"
      "            --subscribers N [--topics T] [--topic-format 'bench-{i}'] [--rate R|max]\n"
      "            [--seconds S] [--warmup S] [--payload BYTES] [--slow-fraction F]\n"
      "            [--publish-connections C] [--private] [--publisher-key K] [--subscriber-key K]\n"
      "            [--server-pid PID[,PID...]] [--sources N] [--shard-size N] [--max-pending N]\n"
      "  storm:    the deliver subscriber options plus [--before N] [--missed N]\n"
      "  request-path: --port P --path /api/sessions [--header 'K: V'] [--connections C]\n"
      "            [--seconds S] [--warmup S] [--server-pid PID]\n"
      "  token-latency: --agent-port P --hub-port P --bedrock-port P --subscriber-key K\n"
      "            [--user U] [--turns N] [--warmup-turns N] [--tokens N] [--delay-ms D]\n"
      "            [--turn-timeout-ms MS] [--server-pid PID[,PID...]]\n",
      stderr);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    usage();
    return 2;
  }
  // A server that hangs up mid-write must not kill the generator.
  signal(SIGPIPE, SIG_IGN);
  const std::string scenario = argv[1];
  try {
    const bench::LoadOptions options(argc, argv, 2);
    nlohmann::json result;
    if (scenario == "deliver") {
      result = bench::run_deliver(options);
    } else if (scenario == "storm") {
      result = bench::run_storm(options);
    } else if (scenario == "request-path") {
      result = bench::run_request_path(options);
    } else if (scenario == "token-latency") {
      result = bench::run_token_latency(options);
    } else {
      usage();
      return 2;
    }
    std::printf("%s\n", result.dump().c_str());
    return 0;
  } catch (const bench::OptionError& e) {
    std::fprintf(stderr, "sse_load: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sse_load: %s\n", e.what());
    return 1;
  }
}
