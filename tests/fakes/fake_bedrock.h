// A fake Bedrock Runtime for tests and the offline demo. It speaks the real wire format:
//
//   POST /model/{modelId}/converse-stream  -> 200 application/vnd.amazon.eventstream, frames with
//        :message-type event, :event-type messageStart | contentBlockStart | contentBlockDelta |
//        contentBlockStop | messageStop | metadata, :content-type application/json
//   POST /model/{modelId}/converse         -> 200 application/json (the Converse answer)
//
// Every request's SigV4 signature (service "bedrock") is checked against the configured key pair
// and a signed x-amz-content-sha256 against the body; a wrong or missing one gets 401
// {"message": ...} with x-amzn-ErrorType: UnrecognizedClientException (AWS itself answers 403
// there; the issue asks the fake for 401). An X-Amz-Date more than 5 minutes from the fake's
// clock gets 403 InvalidSignatureException "Signature expired ...", as AWS answers. Every model
// call's answer carries a Date header from the fake's clock, which clock_offset can shift to play
// a service whose clock differs from the client's.
//
// What it answers comes from a script, a FIFO of responses (each used once), else the default:
// a short streamed text answer, or, when the last user message mentions "time" (and carries no
// tool result yet), a toolUse of `current_time` with input {} first; after a tool result it
// answers "The tool returned: <output>".
//
// A scripted response is a JSON object:
//   {"kind": "text", "text": "Hi", "stop_reason": "end_turn", "reasoning": "...",
//    "usage": {"inputTokens": 10, "outputTokens": 5}}
//   {"kind": "tool_use", "name": "current_time", "input": {...}, "tool_use_id": "tooluse_1",
//    "text": "optional text before the tool call"}
//   {"kind": "error", "status": 429, "error_type": "ThrottlingException", "message": "..."}
//        (429 + ThrottlingException is the throttle; any status/type works)
//   {"kind": "exception_mid_stream", "text": "partial", "exception": "modelStreamErrorException",
//    "message": "..."}  -> some deltas, then an exception frame
//   {"kind": "cut_mid_stream", "text": "partial"} -> some deltas, then the connection is cut
//        inside a frame
//   {"kind": "stall", "text": "partial", "stall_ms": 60000} -> some deltas, then silence
//   {"kind": "clock", "tokens": 100, "delay_ms": 5} -> a streamed text answer of `tokens` deltas,
//        each one "<t123456789> ": the CLOCK_MONOTONIC time in nanoseconds read just before that
//        delta's frame is written to the socket (bench/run.sh's token-latency scenario measures
//        from it). Always one frame per write, whatever "chunking" says, "delay_ms" between
//        deltas and none after the last; Converse (non-streaming) answers the same text stamped
//        at once.
// Any response may also carry "chunking": "frame" (default) | "byte" | "whole" | <bytes per
// write>, and "delay_ms" between writes (default 2).
//
// Control endpoints (no signature needed):
//   POST /_fake/script    body: a JSON array of responses (or {"responses": [...]}); appended
//   POST /_fake/reset     clears the script and the request log
//   GET  /_fake/requests  [{"path", "model_id", "stream", "body"}] of every signed model call
//   GET  /healthz
#pragma once

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

namespace fakes {

struct FakeBedrockOptions {
  std::string host = "127.0.0.1";
  int port = 0;  // 0: any free port
  std::string access_key_id = "AKIDFAKEBEDROCK";
  std::string secret_access_key = "fake-bedrock-secret";
  std::string default_chunking = "frame";
  int default_delay_ms = 2;
  std::chrono::milliseconds clock_offset{0};        // the fake's clock = system clock + this
  nlohmann::json script = nlohmann::json::array();  // initial responses
};

class FakeBedrock {
 public:
  explicit FakeBedrock(FakeBedrockOptions options);
  ~FakeBedrock();
  FakeBedrock(const FakeBedrock&) = delete;
  FakeBedrock& operator=(const FakeBedrock&) = delete;

  // Binds and serves on a background thread; returns the port.
  int start();
  void stop();
  int port() const { return port_; }
  std::string url() const { return "http://" + options_.host + ":" + std::to_string(port_); }

  void add_script(const nlohmann::json& responses);
  nlohmann::json requests() const;
  // Blocks the calling thread until the server stops (the executable's main).
  void wait();

 private:
  void handle_model_call(const httplib::Request& req, httplib::Response& res);
  nlohmann::json next_response(const nlohmann::json& body);

  FakeBedrockOptions options_;
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::mutex join_mutex_;  // stop() may run on a signal thread and in the destructor
  mutable std::mutex mutex_;
  std::deque<nlohmann::json> script_;
  nlohmann::json requests_ = nlohmann::json::array();
  std::atomic<int> tool_counter_{0};
};

// The frames a response streams, already encoded (one string per event-stream message), and how
// the bytes are cut into writes. Exposed for tests of the fake itself.
struct StreamPlan {
  std::vector<std::string> frames;
  // "clock" responses: `clock_tokens` text deltas of content block `clock_block`, each stamped
  // when it is written, go out before frames[clock_at].
  int clock_tokens = 0;
  std::size_t clock_at = 0;
  int clock_block = 0;
  enum class End { kComplete, kCut, kStall } end = End::kComplete;
  int stall_ms = 0;
};
StreamPlan plan_stream(const nlohmann::json& response);
nlohmann::json converse_answer(const nlohmann::json& response);
std::vector<std::string> split_writes(const std::string& bytes, const std::string& chunking);
// The text of one "clock" delta, "<t{monotonic_ns}> ", and its contentBlockDelta frame.
std::string clock_stamp_text(std::int64_t monotonic_ns);
std::string clock_delta_frame(int content_block_index, std::int64_t monotonic_ns);
// CLOCK_MONOTONIC in nanoseconds: the clock the stamps use, the same in every process.
std::int64_t monotonic_now_ns();
// What the fake answers when nothing is scripted.
nlohmann::json default_response(const nlohmann::json& request_body, int tool_number);

}  // namespace fakes
