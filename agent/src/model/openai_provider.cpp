#include "model/openai_provider.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <ctime>
#include <optional>

#include "model/openai_chat_request.h"
#include "model/openai_stream_translator.h"
#include "model/sse_decoder.h"
#include "model/streamed_call.h"
#include "shared/http_client.h"
#include "shared/logging.h"

namespace agent::model {
namespace {

using shared::http::TransportError;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kMaxErrorBodyBytes = 64 * 1024;

ModelError cancelled_error() { return ModelError("cancelled", "the model call was cancelled"); }

std::string trimmed(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  std::size_t b = 0;
  while (b < s.size() && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  return s.substr(b);
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::optional<std::string> header(const shared::http::HeaderList& headers,
                                  const std::string& name) {
  for (const auto& [k, v] : headers)
    if (k == name) return v;
  return std::nullopt;
}

// How long the server asks to wait: OpenAI's retry-after-ms, else Retry-After in seconds or as
// an HTTP date.
std::optional<milliseconds> retry_after(const shared::http::HeaderList& headers) {
  if (auto ms = header(headers, "retry-after-ms")) {
    char* end = nullptr;
    const double v = std::strtod(ms->c_str(), &end);
    if (end != ms->c_str() && v >= 0) return milliseconds(static_cast<long long>(v));
  }
  auto value = header(headers, "retry-after");
  if (!value || value->empty()) return std::nullopt;
  char* end = nullptr;
  const double seconds = std::strtod(value->c_str(), &end);
  if (end != value->c_str() && *end == '\0' && seconds >= 0)
    return milliseconds(static_cast<long long>(seconds * 1000));
  const std::time_t at = curl_getdate(value->c_str(), nullptr);
  if (at < 0) return std::nullopt;
  return milliseconds(
      std::max<long long>(0, static_cast<long long>(at - std::time(nullptr)) * 1000));
}

// One model call with its retries; the worker thread owns it.
class OpenAiCall {
 public:
  OpenAiCall(OpenAiSettings settings, std::shared_ptr<shared::http::HttpClient> http,
             std::shared_ptr<shared::aws::RetryStrategy> retry, std::string body,
             Clock::time_point deadline)
      : settings_(std::move(settings)),
        http_(std::move(http)),
        retry_(std::move(retry)),
        body_(std::move(body)),
        deadline_(deadline) {}

  void run(CallChannel& channel) {
    int spent = 0;
    for (int attempt = 1;; ++attempt) {
      const auto remaining = std::chrono::duration_cast<milliseconds>(deadline_ - Clock::now());
      if (remaining.count() <= 0)
        throw ModelError("timeout", "the model call ran out of time", false);
      bool emitted = false;
      long status = 0;
      std::optional<milliseconds> wait_asked;
      try {
        attempt_once(channel, std::min(remaining, settings_.request_timeout), emitted, status,
                     wait_asked);
        retry_->on_success(spent);
        return;
      } catch (const ModelError& e) {
        if (channel.abandoned()) throw cancelled_error();
        // Once output reached the turn a retry would repeat it; the turn decides.
        if (emitted || !e.retryable()) throw;
        if (wait_asked && *wait_asked > retry_->settings().max_backoff)
          throw ModelError(e.code(),
                           std::string(e.what()) + " (the server asks to wait " +
                               std::to_string((wait_asked->count() + 999) / 1000) + " s)",
                           true);
        shared::aws::AttemptFailure failure;
        failure.timeout = e.code() == "timeout";
        if (e.code() == "throttled") {
          failure.status = 429;
        } else if (status >= 500) {
          failure.status = static_cast<int>(status);
        } else if (!failure.timeout) {
          failure.transport = true;  // no answer, or a stream that broke before any output
        }
        auto delay = retry_->on_failure(attempt, failure);
        if (!delay) throw;
        spent += retry_->cost_of(failure);
        if (wait_asked) delay = std::max(*delay, *wait_asked);
        if (Clock::now() + *delay >= deadline_) throw;
        shared::log::warn("model call failed; retrying", {{"provider", "openai"},
                                                          {"attempt", attempt},
                                                          {"code", e.code()},
                                                          {"error", e.what()},
                                                          {"delay_ms", delay->count()}});
        channel.touch(*delay);
        retry_->sleep(*delay);
        channel.touch();
        if (channel.abandoned()) throw cancelled_error();
      }
    }
  }

 private:
  void attempt_once(CallChannel& channel, milliseconds timeout, bool& emitted, long& status,
                    std::optional<milliseconds>& wait_asked) {
    shared::http::ClientRequest req;
    req.method = "POST";
    req.url = settings_.base_url + "/chat/completions";
    req.headers = {{"Content-Type", "application/json"},
                   {"Accept", settings_.streaming ? "text/event-stream" : "application/json"}};
    if (!settings_.api_key.empty())
      req.headers.emplace_back("Authorization", "Bearer " + settings_.api_key);
    req.body = body_;
    req.connect_timeout = std::min(settings_.connect_timeout, timeout);
    req.timeout = timeout;
    // A non-streamed answer is silent until it is whole: only the request timeout applies.
    req.stall_timeout = settings_.streaming ? settings_.stall_timeout : milliseconds(0);

    const std::string& secret = settings_.api_key;
    auto emit = [&](const ModelEvent& e) {
      emitted = true;
      if (!channel.push(e)) throw cancelled_error();
    };
    ChatStreamTranslator translator(emit, secret);
    SseDecoder decoder(settings_.max_event_bytes);
    bool sse = settings_.streaming;
    shared::http::HeaderList headers;
    std::string error_body;
    std::string json_body;
    std::exception_ptr body_error;
    req.on_headers = [&](long s, const shared::http::HeaderList& h) {
      status = s;
      headers = h;
      // A server that ignores `stream` answers with one JSON document; read it as such.
      const std::string type = header(h, "content-type").value_or("");
      if (sse && type.rfind("application/json", 0) == 0) sse = false;
    };
    req.on_body = [&](std::string_view piece) {
      channel.touch();
      if (channel.abandoned()) return false;
      try {
        if (status != 200) {
          if (error_body.size() < kMaxErrorBodyBytes)
            error_body.append(piece.substr(0, kMaxErrorBodyBytes));
          return true;
        }
        if (!sse) {
          if (json_body.size() + piece.size() > settings_.max_event_bytes)
            throw ModelError("model_error",
                             "the model server's answer is larger than OPENAI_MAX_EVENT_BYTES");
          json_body.append(piece);
          return true;
        }
        auto result = decoder.feed(piece);
        for (const auto& event : result.events) translator.on_event(event);
        if (result.error)
          throw ModelError("model_error",
                           "the model server's stream is unreadable: " + *result.error);
      } catch (...) {
        body_error = std::current_exception();
        return false;
      }
      return true;
    };

    channel.touch();
    try {
      http_->send(req);
    } catch (const TransportError& e) {
      if (body_error) std::rethrow_exception(body_error);
      if (channel.abandoned()) throw cancelled_error();
      const std::string what = e.what();
      switch (e.kind()) {
        case TransportError::Kind::kTimeout:
          throw ModelError("timeout", "the model server did not answer in time: " + what, true);
        case TransportError::Kind::kConnect:
          throw ModelError("unavailable", "cannot reach the model server: " + what, true);
        case TransportError::Kind::kTls:
          throw ModelError("unavailable", "TLS with the model server failed: " + what, false);
        default:
          throw ModelError("unavailable", "the connection to the model server failed: " + what,
                           true);
      }
    }
    if (body_error) std::rethrow_exception(body_error);
    if (status != 200) {
      wait_asked = retry_after(headers);
      throw openai_http_error(status, error_body, secret);
    }
    if (!sse) {
      const nlohmann::json answer = nlohmann::json::parse(json_body, nullptr, false);
      if (answer.is_discarded())
        throw ModelError("model_error", "the model server's answer is not JSON");
      translate_chat_completion(answer, emit, secret);
      return;
    }
    for (const auto& event : decoder.finish()) translator.on_event(event);
    translator.on_end();  // a stream cut before its finish_reason throws here
  }

  const OpenAiSettings settings_;
  const std::shared_ptr<shared::http::HttpClient> http_;
  const std::shared_ptr<shared::aws::RetryStrategy> retry_;
  const std::string body_;
  const Clock::time_point deadline_;
};

class OpenAiProvider : public ModelProvider {
 public:
  OpenAiProvider(OpenAiSettings settings, std::shared_ptr<shared::aws::RetryStrategy> retry)
      : settings_(std::move(settings)),
        http_(std::make_shared<shared::http::HttpClient>()),
        retry_(std::move(retry)) {}

  std::string name() const override { return "openai"; }

  void stream(const ModelRequest& request, const std::function<void(const ModelEvent&)>& on_event,
              const std::atomic<bool>& cancelled) override {
    ChatRequestOptions options;
    options.model = settings_.model;
    options.stream = settings_.streaming;
    options.max_tokens_field = settings_.max_tokens_field;
    auto call = std::make_shared<OpenAiCall>(settings_, http_, retry_,
                                             build_chat_body(request, options).dump(),
                                             Clock::now() + request.deadline);
    StreamedCallLimits limits;
    limits.queue = settings_.event_queue;
    limits.stall = settings_.streaming ? settings_.stall_timeout : milliseconds(0);
    limits.server = "the model server";
    run_streamed_call(
        limits, [call](CallChannel& channel) { call->run(channel); }, on_event, cancelled);
  }

 private:
  OpenAiSettings settings_;
  std::shared_ptr<shared::http::HttpClient> http_;
  std::shared_ptr<shared::aws::RetryStrategy> retry_;
};

}  // namespace

OpenAiSettings read_openai_settings(const shared::ConfigSource& source) {
  using std::chrono::minutes;
  using std::chrono::seconds;
  OpenAiSettings s;
  if (trimmed(source.string("OPENAI_BASE_URL", "")).empty())
    throw shared::ConfigError(
        "OPENAI_BASE_URL",
        "is required when AGENT_MODEL_PROVIDER=openai (e.g. http://127.0.0.1:11434/v1)");
  s.base_url = source.url("OPENAI_BASE_URL", "");
  while (ends_with(s.base_url, "/")) s.base_url.pop_back();
  if (s.base_url.find_first_of("?#") != std::string::npos)
    throw shared::ConfigError("OPENAI_BASE_URL", "must not carry a query or a fragment");
  if (ends_with(s.base_url, "/chat/completions"))
    throw shared::ConfigError("OPENAI_BASE_URL",
                              "give the API base (e.g. http://127.0.0.1:11434/v1), "
                              "without /chat/completions");
  s.model = trimmed(source.string("OPENAI_MODEL", ""));
  if (s.model.empty())
    throw shared::ConfigError("OPENAI_MODEL", "is required when AGENT_MODEL_PROVIDER=openai");
  s.api_key = trimmed(source.string("OPENAI_API_KEY", ""));
  if (std::any_of(s.api_key.begin(), s.api_key.end(),
                  [](unsigned char c) { return c < 0x20 || c == 0x7f; }))
    throw shared::ConfigError("OPENAI_API_KEY", "must be one line of printable characters");
  s.streaming = source.boolean("OPENAI_STREAMING", true);
  s.max_tokens_field = source.one_of("OPENAI_MAX_TOKENS_FIELD", "max_tokens",
                                     {"max_tokens", "max_completion_tokens"});
  s.connect_timeout =
      source.duration("OPENAI_CONNECT_TIMEOUT", seconds(5), milliseconds(100), minutes(5));
  s.request_timeout =
      source.duration("OPENAI_REQUEST_TIMEOUT", minutes(10), seconds(1), std::chrono::hours(24));
  s.stall_timeout = source.duration("OPENAI_STALL_TIMEOUT", seconds(120), seconds(1), minutes(30));
  s.max_attempts = static_cast<int>(source.integer("OPENAI_MAX_ATTEMPTS", 3, 1, 10));
  s.max_event_bytes = source.size("OPENAI_MAX_EVENT_BYTES", 1024 * 1024, 1024, 64 * 1024 * 1024);
  s.event_queue =
      static_cast<std::size_t>(source.integer("OPENAI_EVENT_QUEUE", 1024, 1, 1'000'000));
  return s;
}

std::unique_ptr<ModelProvider> make_openai_provider(
    const OpenAiSettings& settings, std::shared_ptr<shared::aws::RetryStrategy> retry) {
  if (!retry) {
    shared::aws::RetrySettings rs;
    rs.max_attempts = settings.max_attempts;
    retry = std::make_shared<shared::aws::RetryStrategy>(rs);
  }
  return std::make_unique<OpenAiProvider>(settings, std::move(retry));
}

}  // namespace agent::model
