#include "fake_openai.h"

#include <chrono>

namespace fakes {
namespace {

void send_openai_error(httplib::Response& res, int status, const std::string& message,
                       const std::string& type, const nlohmann::json& code = nullptr) {
  res.status = status;
  res.set_content(
      nlohmann::json{
          {"error", {{"message", message}, {"type", type}, {"param", nullptr}, {"code", code}}}}
          .dump(),
      "application/json");
}

std::string as_header_value(const nlohmann::json& v) {
  return v.is_string() ? v.get<std::string>() : v.dump();
}

}  // namespace

FakeOpenAi::FakeOpenAi(FakeOpenAiOptions options) : options_(std::move(options)) {
  add_script(options_.script);
  server_.new_task_queue = [] { return new httplib::ThreadPool(16); };
  // Idle keep-alive connections hold a worker; a short timeout keeps stop() quick.
  server_.set_keep_alive_timeout(1);
  // Many small writes: without TCP_NODELAY each waits for the client's delayed ACK.
  server_.set_tcp_nodelay(true);
  server_.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(R"({"status":"ok"})", "application/json");
  });
  server_.Post("/_fake/script", [this](const httplib::Request& req, httplib::Response& res) {
    nlohmann::json j = nlohmann::json::parse(req.body, nullptr, false);
    if (j.is_object() && j.contains("responses")) j = j["responses"];
    if (!j.is_array()) {
      send_openai_error(res, 400, "expected a JSON array of responses", "invalid_request_error");
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
  server_.Post(
      R"((/.*)?/chat/completions)",
      [this](const httplib::Request& req, httplib::Response& res) { handle_chat(req, res); });
}

FakeOpenAi::~FakeOpenAi() { stop(); }

int FakeOpenAi::start() {
  port_ = options_.port == 0 ? server_.bind_to_any_port(options_.host) : options_.port;
  if (options_.port != 0 && !server_.bind_to_port(options_.host, options_.port)) port_ = -1;
  if (port_ <= 0) throw std::runtime_error("fake_openai: cannot listen on " + options_.host);
  thread_ = std::thread([this] { server_.listen_after_bind(); });
  while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return port_;
}

void FakeOpenAi::stop() {
  stopping_ = true;
  server_.stop();
  std::lock_guard lock(join_mutex_);
  if (thread_.joinable()) thread_.join();
}

void FakeOpenAi::wait() {
  while (server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
}

void FakeOpenAi::add_script(const nlohmann::json& responses) {
  std::lock_guard lock(mutex_);
  if (responses.is_array())
    for (const auto& r : responses) script_.push_back(r);
}

nlohmann::json FakeOpenAi::requests() const {
  std::lock_guard lock(mutex_);
  return requests_;
}

nlohmann::json FakeOpenAi::next_response(const nlohmann::json& body) {
  {
    std::lock_guard lock(mutex_);
    if (!script_.empty()) {
      nlohmann::json r = script_.front();
      script_.pop_front();
      return r;
    }
  }
  return default_chat_response(body, call_counter_.load());
}

void FakeOpenAi::handle_chat(const httplib::Request& req, httplib::Response& res) {
  const std::string authorization = req.get_header_value("Authorization");
  if (!options_.api_key.empty() && authorization != "Bearer " + options_.api_key) {
    send_openai_error(
        res, 401,
        authorization.empty() ? "You didn't provide an API key." : "Incorrect API key provided.",
        "invalid_request_error", "invalid_api_key");
    return;
  }
  const nlohmann::json body = nlohmann::json::parse(req.body, nullptr, false);
  if (auto problem = check_chat_request(body)) {
    send_openai_error(res, 400, *problem, "invalid_request_error");
    return;
  }
  const int number = ++call_counter_;
  {
    std::lock_guard lock(mutex_);
    requests_.push_back(
        {{"path", req.path}, {"authorized", !authorization.empty()}, {"body", body}});
  }
  const nlohmann::json r = next_response(body);
  const std::string kind = r.value("kind", std::string("text"));
  const std::string model = body["model"].get<std::string>();
  if (kind == "error") {
    if (r.contains("retry_after")) res.set_header("Retry-After", as_header_value(r["retry_after"]));
    if (r.contains("retry_after_ms"))
      res.set_header("retry-after-ms", as_header_value(r["retry_after_ms"]));
    const int status = r.value("status", 429);
    send_openai_error(
        res, status, r.value("message", std::string("Rate limit reached, please try again later.")),
        r.value("type", std::string(status == 429 ? "rate_limit_error" : "server_error")));
    return;
  }
  if (!body.value("stream", false)) {
    res.set_content(chat_completion_answer(r, model, number).dump(), "application/json");
    return;
  }
  const bool include_usage = body.contains("stream_options") &&
                             body["stream_options"].is_object() &&
                             body["stream_options"].value("include_usage", false);
  ChatStreamPlan plan = plan_chat_stream(r, model, include_usage, number);
  const int delay_ms = r.value("delay_ms", options_.default_delay_ms);
  const std::string chunking =
      r.contains("chunking") ? as_header_value(r["chunking"]) : options_.default_chunking;
  std::vector<std::string> writes = chat_stream_writes(plan.events, chunking);
  res.set_header("Cache-Control", "no-cache");
  res.set_chunked_content_provider(
      "text/event-stream",
      [this, writes = std::move(writes), plan, delay_ms](size_t, httplib::DataSink& sink) {
        for (const auto& w : writes) {
          if (!sink.write(w.data(), w.size())) return false;
          if (delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
        }
        if (plan.end == ChatStreamPlan::End::kCut) return false;
        if (plan.end == ChatStreamPlan::End::kStall) {
          const auto until =
              std::chrono::steady_clock::now() + std::chrono::milliseconds(plan.stall_ms);
          while (std::chrono::steady_clock::now() < until && !stopping_ && sink.is_writable())
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
          return false;
        }
        sink.done();
        return true;
      });
}

}  // namespace fakes
