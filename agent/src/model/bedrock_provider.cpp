#include "model/bedrock_provider.h"

#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>

#include "model/bedrock_converse_request.h"
#include "model/bedrock_stream_translator.h"
#include "shared/aws/aws_json_client.h"
#include "shared/aws/clock_skew.h"
#include "shared/aws/event_stream.h"
#include "shared/aws/sigv4_signer.h"
#include "shared/logging.h"

namespace agent::model {
namespace {

using shared::http::TransportError;

// What the worker thread and the caller's thread share for one call.
struct CallState {
  explicit CallState(std::size_t capacity) : capacity(capacity) {}
  const std::size_t capacity;
  std::mutex mutex;
  std::condition_variable cv;
  std::deque<ModelEvent> events;
  bool done = false;
  std::exception_ptr error;
  std::atomic<bool> abort{false};
  // When the worker last heard from Bedrock (steady clock, ms). The caller's thread ends the call
  // when this grows older than the stall timeout: libcurl's own low-speed check averages over
  // several seconds and would be late.
  std::atomic<std::int64_t> last_activity_ms{now_ms()};

  static std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
  void touch(std::chrono::milliseconds ahead = std::chrono::milliseconds(0)) {
    last_activity_ms = now_ms() + ahead.count();
  }

  // Blocks while the queue is full (the caller is slow); returns false once aborted.
  bool push(const ModelEvent& e) {
    std::unique_lock lock(mutex);
    cv.wait(lock, [&] { return events.size() < capacity || abort.load(); });
    if (abort.load()) return false;
    events.push_back(e);
    cv.notify_all();
    return true;
  }
  void finish(std::exception_ptr failure) {
    std::lock_guard lock(mutex);
    done = true;
    error = std::move(failure);
    cv.notify_all();
  }
};

class CallAborted : public std::runtime_error {
 public:
  CallAborted() : std::runtime_error("aborted") {}
};

// A request refused for a skewed clock after the signing clock was corrected from the answer's
// Date: worth one more attempt (clock_skew.h). If that fails too it stays "unauthorized".
class ClockSkewCorrected : public ModelError {
 public:
  explicit ClockSkewCorrected(const ModelError& e) : ModelError("unauthorized", e.what(), true) {}
};

class BedrockProvider : public ModelProvider {
 public:
  BedrockProvider(BedrockSettings settings, std::shared_ptr<shared::http::HttpClient> http,
                  std::shared_ptr<shared::aws::CredentialsProvider> credentials,
                  std::shared_ptr<shared::aws::RetryStrategy> retry)
      : settings_(std::move(settings)),
        http_(std::move(http)),
        credentials_(std::move(credentials)),
        retry_(std::move(retry)),
        endpoint_(shared::aws::resolve_endpoint(settings_.aws, "bedrock-runtime")) {}

  std::string name() const override { return "bedrock"; }

  void stream(const ModelRequest& request, const std::function<void(const ModelEvent&)>& on_event,
              const std::atomic<bool>& cancelled) override {
    auto state = std::make_shared<CallState>(settings_.event_queue);
    const std::string body = build_converse_body(request).dump();
    const auto deadline = request.deadline;
    // The worker holds shared copies of all it uses, so a cancelled call may leave it to finish
    // on its own (it stops at the next byte or the stall timeout).
    std::thread worker([state, body, deadline, settings = settings_, http = http_,
                        credentials = credentials_, retry = retry_, endpoint = endpoint_,
                        clock = clock_] {
      try {
        run_call(*state, body, deadline, settings, *http, *credentials, *retry, endpoint, *clock);
        state->finish(nullptr);
      } catch (...) {
        state->finish(std::current_exception());
      }
    });

    std::deque<ModelEvent> batch;
    while (true) {
      bool finished = false;
      std::exception_ptr error;
      {
        std::unique_lock lock(state->mutex);
        state->cv.wait_for(lock, std::chrono::milliseconds(50), [&] {
          return !state->events.empty() || state->done || cancelled.load();
        });
        batch.swap(state->events);
        finished = state->done && batch.empty();
        error = state->error;
        state->cv.notify_all();
      }
      if (cancelled.load()) {
        abandon(*state, worker);
        throw ModelError("cancelled", "the model call was cancelled");
      }
      if (!finished && batch.empty() &&
          CallState::now_ms() - state->last_activity_ms.load() > settings_.stall_timeout.count()) {
        abandon(*state, worker);
        throw ModelError(
            "timeout",
            "bedrock sent nothing for " + std::to_string(settings_.stall_timeout.count()) + " ms",
            true);
      }
      try {
        for (const auto& e : batch) on_event(e);
      } catch (...) {
        abandon(*state, worker);
        throw;
      }
      batch.clear();
      if (finished) {
        worker.join();
        if (error) std::rethrow_exception(error);
        return;
      }
    }
  }

 private:
  static void abandon(CallState& state, std::thread& worker) {
    state.abort = true;
    state.cv.notify_all();
    worker.detach();
  }

  static void run_call(CallState& state, const std::string& body,
                       std::chrono::milliseconds deadline, const BedrockSettings& settings,
                       shared::http::HttpClient& http,
                       shared::aws::CredentialsProvider& credentials,
                       shared::aws::RetryStrategy& retry, const std::string& endpoint,
                       shared::aws::ClockSkew& clock) {
    // As run_with_retries (retry_strategy.h): a success gives back what this call's retries took
    // from the quota, or the success increment when it took nothing.
    int spent = 0;
    for (int attempt = 1;; ++attempt) {
      bool emitted = false;
      try {
        attempt_call(state, body, deadline, settings, http, credentials, endpoint, clock, emitted);
        retry.on_success(spent);
        return;
      } catch (const ModelError& e) {
        if (state.abort.load()) throw;
        // Once output reached the caller a retry would repeat it; the turn decides.
        if (emitted || !e.retryable()) throw;
        shared::aws::AttemptFailure failure;
        failure.error_code = e.code() == "throttled" ? "ThrottlingException" : "";
        failure.status = e.code() == "throttled" ? 429 : 503;
        failure.timeout = e.code() == "timeout";
        failure.clock_skew_corrected = dynamic_cast<const ClockSkewCorrected*>(&e) != nullptr;
        auto delay = retry.on_failure(attempt, failure);
        if (!delay) throw;
        spent += retry.cost_of(failure);
        shared::log::warn("bedrock call failed; retrying", {{"attempt", attempt},
                                                            {"code", e.code()},
                                                            {"error", e.what()},
                                                            {"delay_ms", delay->count()}});
        state.touch(*delay);
        retry.sleep(*delay);
        state.touch();
        if (state.abort.load()) throw ModelError("cancelled", "the model call was cancelled");
      }
    }
  }

  static void attempt_call(CallState& state, const std::string& body,
                           std::chrono::milliseconds deadline, const BedrockSettings& settings,
                           shared::http::HttpClient& http,
                           shared::aws::CredentialsProvider& credentials,
                           const std::string& endpoint, shared::aws::ClockSkew& clock,
                           bool& emitted) {
    const auto parts = shared::aws::split_endpoint(endpoint);
    shared::aws::SignableRequest sr;
    sr.method = "POST";
    sr.path = parts.base_path + converse_path(settings.model_id, settings.streaming);
    sr.headers = {
        {"Host", parts.host_header},
        {"Content-Type", "application/json"},
        {"Accept", settings.streaming ? "application/vnd.amazon.eventstream" : "application/json"}};
    sr.body = body;
    shared::aws::SigningParams params;
    params.region = settings.aws.region.empty() ? "us-east-1" : settings.aws.region;
    params.service = "bedrock";
    try {
      params.credentials = credentials.get();
    } catch (const std::exception& e) {
      throw ModelError("unauthorized", e.what(), false);
    }
    params.time = clock.now();
    shared::aws::SigV4Signer::sign(sr, params);

    shared::http::ClientRequest req;
    req.method = "POST";
    req.url = parts.scheme + "://" + parts.host_header + sr.path;
    req.headers = sr.headers;
    req.body = body;
    req.connect_timeout = settings.aws.connect_timeout;
    req.timeout = deadline;
    req.stall_timeout = settings.stall_timeout;

    long status = 0;
    std::string error_body;
    std::string json_body;
    std::exception_ptr stream_error;
    shared::aws::EventStreamLimits limits;
    limits.max_message_bytes = settings.max_event_bytes;
    shared::aws::EventStreamDecoder decoder(limits);
    ConverseStreamTranslator translator([&](const ModelEvent& e) {
      emitted = true;
      if (!state.push(e)) throw CallAborted();
    });
    req.on_headers = [&](long s, const shared::http::HeaderList&) { status = s; };
    req.on_body = [&](std::string_view piece) {
      state.touch();
      if (state.abort.load()) return false;
      if (status != 200) {
        if (error_body.size() < 64 * 1024) error_body.append(piece);
        return true;
      }
      if (!settings.streaming) {
        if (json_body.size() + piece.size() > settings.max_event_bytes * 8) {
          stream_error =
              std::make_exception_ptr(ModelError("model_error", "bedrock answer too large"));
          return false;
        }
        json_body.append(piece);
        return true;
      }
      try {
        auto result = decoder.feed(piece);
        for (const auto& message : result.messages)
          translator.on_message(shared::aws::classify_event_stream_message(message));
        if (result.error)
          throw ModelError("model_error", "bedrock stream is corrupt: " + *result.error);
      } catch (...) {
        stream_error = std::current_exception();
        return false;
      }
      return true;
    };

    shared::http::ClientResponse res;
    state.touch();
    try {
      res = http.send(req);
    } catch (const TransportError& e) {
      if (stream_error) std::rethrow_exception(stream_error);
      if (state.abort.load()) throw ModelError("cancelled", "the model call was cancelled");
      if (e.kind() == TransportError::Kind::kTimeout)
        throw ModelError("timeout", std::string("bedrock did not answer in time: ") + e.what(),
                         true);
      throw ModelError("unavailable", std::string("bedrock unreachable: ") + e.what(), true);
    } catch (const CallAborted&) {
      throw ModelError("cancelled", "the model call was cancelled");
    }
    if (stream_error) std::rethrow_exception(stream_error);
    if (res.status != 200) {
      auto shape =
          shared::aws::parse_error_shape(res.header("x-amzn-errortype").value_or(""), error_body);
      ModelError error = bedrock_error(shape.code, shape.message, static_cast<int>(res.status));
      if (clock.correct(shape.code, res.header("date").value_or(""))) {
        shared::log::warn(
            "bedrock refused a skewed clock; signing with the service's time from now on",
            {{"offset_ms", clock.offset().count()}});
        throw ClockSkewCorrected(error);
      }
      throw error;
    }
    if (!settings.streaming) {
      nlohmann::json j = nlohmann::json::parse(json_body, nullptr, false);
      if (!j.is_object()) throw ModelError("model_error", "bedrock Converse answer is not JSON");
      translate_converse_response(j, [&](const ModelEvent& e) {
        emitted = true;
        if (!state.push(e)) throw ModelError("cancelled", "the model call was cancelled");
      });
      return;
    }
    if (decoder.buffered() > 0 || !translator.stopped())
      throw ModelError("unavailable", "bedrock stream ended before messageStop", false);
  }

  BedrockSettings settings_;
  std::shared_ptr<shared::http::HttpClient> http_;
  std::shared_ptr<shared::aws::CredentialsProvider> credentials_;
  std::shared_ptr<shared::aws::RetryStrategy> retry_;
  std::string endpoint_;
  std::shared_ptr<shared::aws::ClockSkew> clock_ = std::make_shared<shared::aws::ClockSkew>();
};

}  // namespace

BedrockSettings read_bedrock_settings(const shared::ConfigSource& source) {
  BedrockSettings s;
  s.model_id = source.string("BEDROCK_MODEL_ID", "anthropic.claude-3-5-sonnet-20240620-v1:0");
  if (s.model_id.empty()) throw shared::ConfigError("BEDROCK_MODEL_ID", "must not be empty");
  s.streaming = source.boolean("BEDROCK_STREAMING", true);
  s.stall_timeout = source.duration("BEDROCK_STALL_TIMEOUT", std::chrono::seconds(60),
                                    std::chrono::seconds(1), std::chrono::minutes(30));
  s.max_event_bytes = source.size("BEDROCK_MAX_EVENT_BYTES", 1024 * 1024, 1024, 16 * 1024 * 1024);
  s.event_queue = source.integer("BEDROCK_EVENT_QUEUE", 1024, 1, 1'000'000);
  s.aws = shared::aws::read_aws_settings(source);
  return s;
}

std::unique_ptr<ModelProvider> make_bedrock_provider(
    const BedrockSettings& settings, std::shared_ptr<shared::aws::CredentialsProvider> credentials,
    std::shared_ptr<shared::aws::RetryStrategy> retry) {
  auto http = std::make_shared<shared::http::HttpClient>();
  if (!credentials) {
    // The chain keeps a reference to the client it asks; the provider keeps the client alive.
    auto chain = shared::aws::make_default_credentials_chain(settings.aws, *http);
    credentials = std::shared_ptr<shared::aws::CredentialsProvider>(
        chain.get(), [chain, http](shared::aws::CredentialsProvider*) mutable { chain.reset(); });
  }
  if (!retry) {
    shared::aws::RetrySettings rs;
    rs.max_attempts = settings.aws.max_attempts;
    retry = std::make_shared<shared::aws::RetryStrategy>(rs);
  }
  return std::make_unique<BedrockProvider>(settings, std::move(http), std::move(credentials),
                                           std::move(retry));
}

}  // namespace agent::model
