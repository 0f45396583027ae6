#include "fake_bedrock.h"

#include <chrono>
#include <ctime>
#include <regex>

#include "shared/aws/sigv4_verifier.h"
#include "shared/http_client.h"

namespace fakes {
namespace {

void send_aws_error(httplib::Response& res, int status, const std::string& type,
                    const std::string& message) {
  res.status = status;
  res.set_header("x-amzn-ErrorType",
                 type + ":http://internal.amazon.com/coral/com.amazon.bedrock/");
  res.set_content(nlohmann::json{{"message", message}}.dump(), "application/json");
}

// RFC 7231 IMF-fixdate, as AWS sends in Date.
std::string http_date(std::chrono::system_clock::time_point time) {
  const std::time_t t = std::chrono::system_clock::to_time_t(time);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return buf;
}

void stream_clock(httplib::Response& res, StreamPlan plan, int delay_ms) {
  // One frame per write: each delta is stamped as late as possible before its own write, so the
  // stamp is when the token leaves the fake (encoding the frame after the stamp takes
  // microseconds).
  res.set_chunked_content_provider(
      "application/vnd.amazon.eventstream",
      [plan = std::move(plan), delay_ms](size_t, httplib::DataSink& sink) {
        for (std::size_t i = 0; i <= plan.frames.size(); ++i) {
          if (i == plan.clock_at) {
            for (int token = 0; token < plan.clock_tokens; ++token) {
              if (token > 0 && delay_ms > 0)
                std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
              const std::string frame = clock_delta_frame(plan.clock_block, monotonic_now_ns());
              if (!sink.write(frame.data(), frame.size())) return false;
            }
          }
          if (i < plan.frames.size() && !sink.write(plan.frames[i].data(), plan.frames[i].size()))
            return false;
        }
        sink.done();
        return true;
      });
}

}  // namespace

FakeBedrock::FakeBedrock(FakeBedrockOptions options) : options_(std::move(options)) {
  add_script(options_.script);
  server_.new_task_queue = [] { return new httplib::ThreadPool(16); };
  // Idle keep-alive connections hold a worker; a short timeout keeps stop() quick.
  server_.set_keep_alive_timeout(1);
  // A streamed answer is many small writes: with Nagle's algorithm each one waits for the ACK of
  // the previous, and the client's delayed ACK then holds tokens back up to 40 ms.
  server_.set_tcp_nodelay(true);
  server_.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(R"({"status":"ok"})", "application/json");
  });
  server_.Post("/_fake/script", [this](const httplib::Request& req, httplib::Response& res) {
    nlohmann::json j = nlohmann::json::parse(req.body, nullptr, false);
    if (j.is_object() && j.contains("responses")) j = j["responses"];
    if (!j.is_array()) {
      res.status = 400;
      res.set_content(R"({"message":"expected a JSON array of responses"})", "application/json");
      return;
    }
    add_script(j);
    std::lock_guard lock(mutex_);
    res.set_content(nlohmann::json{{"queued", script_.size()}}.dump(), "application/json");
  });
  server_.Post("/_fake/reset", [this](const httplib::Request&, httplib::Response& res) {
    std::lock_guard lock(mutex_);
    script_.clear();
    requests_ = nlohmann::json::array();
    res.set_content("{}", "application/json");
  });
  server_.Get("/_fake/requests", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(requests().dump(), "application/json");
  });
  server_.Post(R"(/model/.+)", [this](const httplib::Request& req, httplib::Response& res) {
    handle_model_call(req, res);
  });
}

FakeBedrock::~FakeBedrock() { stop(); }

int FakeBedrock::start() {
  port_ = options_.port == 0 ? server_.bind_to_any_port(options_.host) : options_.port;
  if (options_.port != 0 && !server_.bind_to_port(options_.host, options_.port)) port_ = -1;
  if (port_ <= 0) throw std::runtime_error("fake_bedrock: cannot listen on " + options_.host);
  thread_ = std::thread([this] { server_.listen_after_bind(); });
  while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return port_;
}

void FakeBedrock::stop() {
  server_.stop();
  std::lock_guard lock(join_mutex_);
  if (thread_.joinable()) thread_.join();
}

void FakeBedrock::wait() {
  while (server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
}

void FakeBedrock::add_script(const nlohmann::json& responses) {
  std::lock_guard lock(mutex_);
  if (responses.is_array())
    for (const auto& r : responses) script_.push_back(r);
}

nlohmann::json FakeBedrock::requests() const {
  std::lock_guard lock(mutex_);
  return requests_;
}

nlohmann::json FakeBedrock::next_response(const nlohmann::json& body) {
  {
    std::lock_guard lock(mutex_);
    if (!script_.empty()) {
      nlohmann::json r = script_.front();
      script_.pop_front();
      return r;
    }
  }
  return default_response(body, ++tool_counter_);
}

void FakeBedrock::handle_model_call(const httplib::Request& req, httplib::Response& res) {
  // Signatures cover the path as sent, so check against the raw request target.
  std::string wire_path = req.target.empty() ? req.path : req.target;
  std::string query;
  if (auto q = wire_path.find('?'); q != std::string::npos) {
    query = wire_path.substr(q + 1);
    wire_path.resize(q);
  }
  shared::aws::ReceivedRequest rr{"POST", wire_path, query, {}, req.body};
  for (const auto& [k, v] : req.headers) rr.headers.emplace_back(k, v);
  const auto now = std::chrono::system_clock::now() + options_.clock_offset;
  res.set_header("Date", http_date(now));
  auto verdict = shared::aws::verify_sigv4(rr, options_.access_key_id, options_.secret_access_key,
                                           "bedrock", now);
  if (verdict.failure == shared::aws::VerifyResult::Failure::kClockSkew) {
    send_aws_error(res, 403, "InvalidSignatureException", verdict.reason);
    return;
  }
  if (!verdict.ok) {
    send_aws_error(res, 401, "UnrecognizedClientException",
                   "The security token included in the request is invalid: " + verdict.reason);
    return;
  }
  static const std::regex route(R"(^/model/([^/]+)/(converse|converse-stream)$)");
  std::smatch m;
  if (!std::regex_match(wire_path, m, route)) {
    send_aws_error(res, 404, "UnknownOperationException", "unknown operation " + wire_path);
    return;
  }
  const std::string model_id = shared::http::url_decode(m[1].str());
  const bool stream = m[2].str() == "converse-stream";
  nlohmann::json body = nlohmann::json::parse(req.body, nullptr, false);
  if (!body.is_object() || !body.contains("messages") || !body["messages"].is_array()) {
    send_aws_error(res, 400, "ValidationException", "messages is required");
    return;
  }
  {
    std::lock_guard lock(mutex_);
    requests_.push_back(
        {{"path", wire_path}, {"model_id", model_id}, {"stream", stream}, {"body", body}});
  }
  nlohmann::json r = next_response(body);
  const std::string kind = r.value("kind", std::string("text"));
  if (kind == "error") {
    send_aws_error(
        res, r.value("status", 429), r.value("error_type", std::string("ThrottlingException")),
        r.value("message", std::string("Too many requests, please wait before trying again.")));
    return;
  }
  if (!stream) {
    res.set_content(converse_answer(r).dump(), "application/json");
    return;
  }
  StreamPlan plan = plan_stream(r);
  const int delay_ms = r.value("delay_ms", options_.default_delay_ms);
  res.set_header("x-amzn-RequestId", "fake-" + std::to_string(tool_counter_.load()));
  if (plan.clock_tokens > 0) {
    stream_clock(res, std::move(plan), delay_ms);
    return;
  }
  const std::string chunking =
      r.contains("chunking") ? (r["chunking"].is_number() ? std::to_string(r["chunking"].get<int>())
                                                          : r["chunking"].get<std::string>())
                             : options_.default_chunking;
  std::vector<std::string> writes;
  if (chunking == "frame") {
    writes = plan.frames;
  } else {
    std::string all;
    for (const auto& f : plan.frames) all += f;
    writes = chunking == "whole" ? std::vector<std::string>{all} : split_writes(all, chunking);
  }
  res.set_chunked_content_provider(
      "application/vnd.amazon.eventstream",
      [this, writes = std::move(writes), plan, delay_ms](size_t, httplib::DataSink& sink) {
        for (const auto& w : writes) {
          if (!sink.write(w.data(), w.size())) return false;
          if (delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
        }
        if (plan.end == StreamPlan::End::kCut) return false;
        if (plan.end == StreamPlan::End::kStall) {
          const auto until =
              std::chrono::steady_clock::now() + std::chrono::milliseconds(plan.stall_ms);
          while (std::chrono::steady_clock::now() < until && server_.is_running() &&
                 sink.is_writable())
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
          return false;
        }
        sink.done();
        return true;
      });
}

}  // namespace fakes
