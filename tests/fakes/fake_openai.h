// A fake OpenAI-compatible chat completions server for tests. It speaks the real wire format:
//
//   POST {any prefix}/chat/completions  "stream": true  -> 200 text/event-stream: a comment line,
//        `data: {chat.completion.chunk}` events (role, reasoning, content, tool_calls with
//        index/id/name first and argument fragments after, finish_reason; `"usage": null` on
//        each and a last usage chunk with empty choices when stream_options.include_usage),
//        then `data: [DONE]`
//                                       "stream": false -> 200 application/json chat.completion
//
// With an API key configured, a request without `Authorization: Bearer <key>` gets 401 with
// OpenAI's error shape {"error": {"message", "type", "param", "code"}}. Requests are checked the
// way OpenAI checks them (roles, content, tool_calls with string arguments, each `tool` message
// answering a tool_call_id of the assistant message before it, tools as functions,
// stream_options only with stream): a bad one gets 400 with the reason.
//
// What it answers comes from a script, a FIFO of responses (each used once), else the default:
// a streamed text answer; when the last user message mentions "time", a `current_time` tool call
// with arguments {} first; after a tool result, "The tool returned: <content>".
//
// A scripted response is a JSON object:
//   {"kind": "text", "text": "Hi", "finish_reason": "stop", "reasoning": "...",
//    "reasoning_field": "reasoning_content" | "reasoning",
//    "usage": {"prompt_tokens": 10, "completion_tokens": 5} (null: no usage chunk)}
//   {"kind": "tool_calls", "text": "optional text first", "interleave": false,
//    "calls": [{"id": "call_1", "name": "current_time", "arguments": {...} or "raw string"}]}
//        (arguments go out in three fragments per call; "interleave" alternates the calls'
//        fragments, as parallel calls may arrive; finish_reason defaults to "tool_calls")
//   {"kind": "error", "status": 429, "message": "...", "type": "rate_limit_error",
//    "retry_after": "2" (Retry-After header), "retry_after_ms": "1500"}
//   {"kind": "error_mid_stream", "text": "partial", "message": "..."} -> deltas, then
//        `data: {"error": {...}}` and the end of the body
//   {"kind": "cut_mid_stream", "text": "partial"} -> deltas, then half an event and a cut
//   {"kind": "stall", "text": "partial", "stall_ms": 60000} -> deltas, then silence
// Any response may also carry "chunking": "event" (default) | "byte" | "whole" | <bytes per
// write>, "delay_ms" between writes (default 2), "crlf": true (CRLF line ends), "done": false
// (no `[DONE]`).
//
// Control endpoints (no key needed):
//   POST /_fake/script    body: a JSON array of responses (or {"responses": [...]}); appended
//   POST /_fake/reset     clears the script and the request log
//   GET  /_fake/requests  [{"path", "authorized", "body"}] of every accepted model call
//   GET  /healthz
#pragma once

#include <httplib.h>

#include <atomic>
#include <deque>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace fakes {

struct FakeOpenAiOptions {
  std::string host = "127.0.0.1";
  int port = 0;         // 0: any free port
  std::string api_key;  // empty: no key checked
  std::string default_chunking = "event";
  int default_delay_ms = 2;
  nlohmann::json script = nlohmann::json::array();  // initial responses
};

class FakeOpenAi {
 public:
  explicit FakeOpenAi(FakeOpenAiOptions options);
  ~FakeOpenAi();
  FakeOpenAi(const FakeOpenAi&) = delete;
  FakeOpenAi& operator=(const FakeOpenAi&) = delete;

  // Binds and serves on a background thread; returns the port.
  int start();
  void stop();
  int port() const { return port_; }
  // The base URL clients are given (OPENAI_BASE_URL).
  std::string base_url() const {
    return "http://" + options_.host + ":" + std::to_string(port_) + "/v1";
  }
  std::string url() const { return "http://" + options_.host + ":" + std::to_string(port_); }

  void add_script(const nlohmann::json& responses);
  nlohmann::json requests() const;
  // Blocks the calling thread until the server stops (the executable's main).
  void wait();

 private:
  void handle_chat(const httplib::Request& req, httplib::Response& res);
  nlohmann::json next_response(const nlohmann::json& body);

  FakeOpenAiOptions options_;
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::mutex join_mutex_;
  mutable std::mutex mutex_;
  std::deque<nlohmann::json> script_;
  nlohmann::json requests_ = nlohmann::json::array();
  std::atomic<int> call_counter_{0};
  // Set first thing in stop(): a stalled stream ends at once instead of holding stop() (and the
  // server's is_running() stays true until its handlers have returned).
  std::atomic<bool> stopping_{false};
};

// The events a streamed response sends, each already framed ("data: ...\n\n"), and how the
// stream ends. Exposed for tests of the fake itself.
struct ChatStreamPlan {
  std::vector<std::string> events;
  enum class End { kComplete, kCut, kStall } end = End::kComplete;
  int stall_ms = 0;
};
ChatStreamPlan plan_chat_stream(const nlohmann::json& response, const std::string& model,
                                bool include_usage, int number);
nlohmann::json chat_completion_answer(const nlohmann::json& response, const std::string& model,
                                      int number);
// Why a request would be refused (the message of the 400), or nothing when it is fine.
std::optional<std::string> check_chat_request(const nlohmann::json& body);
// What the fake answers when nothing is scripted.
nlohmann::json default_chat_response(const nlohmann::json& request_body, int number);
// Bytes cut into writes: "event" keeps the events, "whole" is one write, "byte" or N bytes.
std::vector<std::string> chat_stream_writes(const std::vector<std::string>& events,
                                            const std::string& chunking);

}  // namespace fakes
