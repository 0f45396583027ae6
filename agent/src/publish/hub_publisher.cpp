#include "publish/hub_publisher.h"

#include "shared/logging.h"

namespace agent::publish {
namespace {

constexpr auto kTokenLifetime = std::chrono::hours(1);
constexpr auto kTokenRenewAfter = std::chrono::minutes(30);
constexpr const char* kDroppedHelp =
    "Updates dropped: reason=backlog_full (the oldest, to make room while the hub was away), "
    "rejected (the hub refused it with a 4xx), unsigned (no publisher JWT could be made)";

}  // namespace

HubPublisher::HubPublisher(HubSettings settings, shared::MetricsRegistry& metrics)
    : settings_(std::move(settings)), metrics_(metrics) {
  metrics_.gauge("agent_publish_backlog", "Updates waiting to be published to the hub");
  // Every series from the start (at 0), so that rates and alerts see them before the first event.
  metrics_.counter("agent_publish_total", "Updates the hub accepted");
  metrics_.counter("agent_publish_failures_total", "Failed attempts to publish an update");
  for (const char* reason : {"backlog_full", "rejected", "unsigned"})
    metrics_.counter("agent_publish_dropped_total", kDroppedHelp, {{"reason", reason}});
  worker_ = std::thread([this] { run(); });
}

HubPublisher::~HubPublisher() { stop(); }

void HubPublisher::publish(const std::string& topic, const nlohmann::json& data) {
  std::lock_guard lock(mutex_);
  if (queue_.size() >= settings_.backlog) {
    queue_.pop_front();
    count_drop("backlog_full");
  }
  queue_.push_back(
      {next_number_++, topic, data.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)});
  metrics_.gauge("agent_publish_backlog", "Updates waiting to be published to the hub")
      .set(static_cast<double>(queue_.size()));
  wake_.notify_one();
}

std::size_t HubPublisher::backlog_size() {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

void HubPublisher::count_drop(const char* reason) {
  metrics_.counter("agent_publish_dropped_total", kDroppedHelp, {{"reason", reason}}).inc();
}

void HubPublisher::stop(std::chrono::steady_clock::time_point until) {
  {
    std::lock_guard lock(mutex_);
    if (!stopping_) {
      stopping_ = true;
      drain_deadline_ = std::min(until, std::chrono::steady_clock::now() + settings_.drain_timeout);
    }
    wake_.notify_all();
  }
  if (worker_.joinable()) worker_.join();
}

std::string HubPublisher::bearer_token() {
  const auto now = std::chrono::steady_clock::now();
  if (token_.empty() || now - token_made_ > kTokenRenewAfter) {
    const auto exp = std::chrono::system_clock::now() + kTokenLifetime;
    nlohmann::json claims = {
        {"mercure", {{"publish", {"*"}}}},
        {"exp", std::chrono::duration_cast<std::chrono::seconds>(exp.time_since_epoch()).count()}};
    token_ = shared::jwt::sign(claims, settings_.key);
    token_made_ = now;
  }
  return token_;
}

bool HubPublisher::send(const Update& update) {
  shared::http::ClientRequest request;
  request.method = "POST";
  request.url = settings_.url;
  request.timeout = settings_.timeout;
  request.connect_timeout = std::min(settings_.timeout, std::chrono::milliseconds(2000));
  request.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                     {"Authorization", "Bearer " + bearer_token()}};
  request.body = "topic=" + shared::http::url_encode(update.topic) +
                 "&data=" + shared::http::url_encode(update.data) + "&private=on";
  try {
    const auto response = client_.send(request);
    if (response.status >= 200 && response.status < 300) {
      metrics_.counter("agent_publish_total", "Updates the hub accepted").inc();
      return true;
    }
    metrics_.counter("agent_publish_failures_total", "Failed attempts to publish an update").inc();
    if (response.status >= 500 || response.status == 429 || response.status == 408) {
      shared::log::warn("hub refused an update for now; retrying", {{"status", response.status}});
      return false;
    }
    // A 4xx other than those will not get better by retrying (bad key, bad topic): drop it.
    count_drop("rejected");
    shared::log::error("hub rejected an update; dropped",
                       {{"status", response.status}, {"body", response.body.substr(0, 200)}});
    return true;
  } catch (const shared::http::TransportError& e) {
    metrics_.counter("agent_publish_failures_total", "Failed attempts to publish an update").inc();
    shared::log::warn("hub unreachable; retrying", {{"error", e.what()}});
    return false;
  } catch (const shared::jwt::JwtError& e) {
    shared::log::error("cannot sign the publisher JWT; update dropped", {{"error", e.what()}});
    count_drop("unsigned");
    return true;
  }
}

void HubPublisher::run() {
  std::chrono::milliseconds backoff{0};
  std::unique_lock lock(mutex_);
  while (true) {
    wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping with nothing left
    if (stopping_ && std::chrono::steady_clock::now() >= drain_deadline_) {
      shared::log::warn("publish backlog not drained before stop", {{"left", queue_.size()}});
      return;
    }
    Update update = queue_.front();
    lock.unlock();
    const bool done = send(update);
    lock.lock();
    if (done) {
      // The front may have been dropped for space meanwhile; only pop what we sent.
      if (!queue_.empty() && queue_.front().number == update.number) queue_.pop_front();
      backoff = std::chrono::milliseconds(0);
      metrics_.gauge("agent_publish_backlog", "Updates waiting to be published to the hub")
          .set(static_cast<double>(queue_.size()));
    } else {
      backoff = backoff.count() == 0 ? std::chrono::milliseconds(100)
                                     : std::min(backoff * 2, settings_.max_backoff);
      auto until = std::chrono::steady_clock::now() + backoff;
      if (stopping_) until = std::min(until, drain_deadline_);
      wake_.wait_until(lock, until, [&] {
        return stopping_ && std::chrono::steady_clock::now() >= drain_deadline_;
      });
    }
  }
}

std::string HubPublisher::check_ready() {
  shared::http::ClientRequest request;
  request.method = "GET";
  request.url = settings_.url;
  request.timeout = std::chrono::milliseconds(2000);
  request.connect_timeout = std::chrono::milliseconds(1000);
  try {
    const auto response = client_.send(request);
    if (response.status >= 500) return "hub answered " + std::to_string(response.status);
    return "";
  } catch (const std::exception& e) {
    return std::string("hub unreachable: ") + e.what();
  }
}

}  // namespace agent::publish
