#include "model/streamed_call.h"

#include <memory>
#include <thread>

namespace agent::model {

std::int64_t CallChannel::now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

bool CallChannel::push(const ModelEvent& event) {
  std::unique_lock lock(mutex_);
  cv_.wait(lock, [&] { return events_.size() < capacity_ || abandoned_.load(); });
  if (abandoned_.load()) return false;
  events_.push_back(event);
  cv_.notify_all();
  return true;
}

void CallChannel::touch(std::chrono::milliseconds ahead) {
  last_activity_ms_ = now_ms() + ahead.count();
}

void CallChannel::finish(std::exception_ptr failure) {
  std::lock_guard lock(mutex_);
  done_ = true;
  error_ = std::move(failure);
  cv_.notify_all();
}

void CallChannel::abandon() {
  std::lock_guard lock(mutex_);
  abandoned_ = true;
  cv_.notify_all();
}

void run_streamed_call(const StreamedCallLimits& limits, std::function<void(CallChannel&)> work,
                       const std::function<void(const ModelEvent&)>& on_event,
                       const std::atomic<bool>& cancelled) {
  auto channel = std::make_shared<CallChannel>(limits.queue);
  std::thread worker([channel, work = std::move(work)] {
    try {
      work(*channel);
      channel->finish(nullptr);
    } catch (...) {
      channel->finish(std::current_exception());
    }
  });
  auto give_up = [&] {
    channel->abandon();
    worker.detach();
  };

  std::deque<ModelEvent> batch;
  while (true) {
    bool finished = false;
    std::exception_ptr error;
    {
      std::unique_lock lock(channel->mutex_);
      channel->cv_.wait_for(lock, std::chrono::milliseconds(50), [&] {
        return !channel->events_.empty() || channel->done_ || cancelled.load();
      });
      batch.swap(channel->events_);
      finished = channel->done_ && batch.empty();
      error = channel->error_;
      channel->cv_.notify_all();  // room in the queue again
    }
    if (cancelled.load()) {
      give_up();
      throw ModelError("cancelled", "the model call was cancelled");
    }
    if (!finished && batch.empty() && limits.stall.count() > 0 &&
        CallChannel::now_ms() - channel->last_activity_ms_.load() > limits.stall.count()) {
      give_up();
      throw ModelError(
          "timeout",
          limits.server + " sent nothing for " + std::to_string(limits.stall.count()) + " ms",
          true);
    }
    try {
      for (const auto& e : batch) on_event(e);
    } catch (...) {
      give_up();
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

}  // namespace agent::model
