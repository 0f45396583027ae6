#include "relay.h"

#include "event_loop.h"
#include "relay_headers.h"
#include "shared/logging.h"

namespace app {

using Failure = UpstreamCall::Failure;
using Clock = std::chrono::steady_clock;

void Relay::start(const ExchangePtr& exchange, UpstreamPool& pool, UpstreamRequest request,
                  RelayOptions options) {
  auto call = std::make_shared<UpstreamCall>(pool, std::move(request), options.timeouts,
                                             options.buffer_bytes);
  auto relay = std::make_shared<Relay>(exchange, call, std::move(options));
  exchange->on_abort([relay] { relay->abort(); });
  call->start(
      [relay](Failure failure, const std::string& detail) { relay->on_head(failure, detail); });
}

Relay::Relay(ExchangePtr exchange, std::shared_ptr<UpstreamCall> call, RelayOptions options)
    : exchange_(std::move(exchange)), call_(std::move(call)), options_(std::move(options)) {}

void Relay::on_head(Failure failure, const std::string& detail) {
  if (done_) return;
  shared::log::RequestScope scope(exchange_->request().request_id);
  const std::string& name = options_.upstream_name;
  if (failure != Failure::kNone) {
    if (failure == Failure::kTimeout) {
      shared::log::warn("upstream timed out", {{"upstream", name}, {"error", detail}});
      exchange_->respond(
          error_response(504, name + "_timeout", "the " + name + " did not answer in time"));
    } else {
      shared::log::warn("upstream unavailable", {{"upstream", name}, {"error", detail}});
      exchange_->respond(
          error_response(502, name + "_unavailable", "the " + name + " is not reachable"));
    }
    finish();
    return;
  }
  Response head = response_head();
  const auto length = call_->content_length();
  if (bodiless_status(head.status) || (length && *length <= options_.buffer_bytes)) {
    whole_head_ = std::move(head);
    read_whole();
    return;
  }
  exchange_->begin_stream(std::move(head));
  last_write_ = Clock::now();
  if (options_.idle_comment.count() > 0) {
    bool event_stream = false;
    for (const auto& [k, v] : call_->headers())
      if (k == "content-type" && v.rfind("text/event-stream", 0) == 0) event_stream = true;
    if (event_stream) {
      comment_timer_.emplace(exchange_->loop().context());
      schedule_comment();
    }
  }
  pump();
}

Response Relay::response_head() const {
  Response head;
  head.status = call_->status();
  bool typed = false;
  for (const auto& [name, value] : call_->headers()) {
    if (!passed_to_client(name)) continue;
    if (name == "content-type") typed = true;
    head.headers.emplace_back(name, value);
  }
  if (!typed && !bodiless_status(head.status))
    head.headers.emplace_back("content-type", "application/octet-stream");
  for (const auto& [name, value] : options_.fixed_headers) head.set_header(name, value);
  if (head.status >= 200 && head.status < 300)
    for (const auto& [name, value] : options_.success_headers) head.set_header(name, value);
  return head;
}

void Relay::read_whole() {
  RelayFlow& flow = call_->flow();
  if (flow.ended()) {
    Response response = std::move(*whole_head_);
    response.body = flow.take();
    flow.written();
    exchange_->respond(std::move(response));
    finish();
    return;
  }
  call_->read_body([self = shared_from_this()](Failure failure, const std::string& detail) {
    if (self->done_) return;
    if (failure != Failure::kNone) {
      shared::log::RequestScope scope(self->exchange_->request().request_id);
      shared::log::warn("upstream answer broke off",
                        {{"upstream", self->options_.upstream_name}, {"error", detail}});
      const std::string& name = self->options_.upstream_name;
      self->exchange_->respond(
          failure == Failure::kTimeout
              ? error_response(504, name + "_timeout", "the " + name + " did not answer in time")
              : error_response(502, name + "_unavailable", "the " + name + " answer broke off"));
      self->finish();
      return;
    }
    self->read_whole();
  });
}

void Relay::pump() {
  if (done_) return;
  RelayFlow& flow = call_->flow();
  const RelayFlow::Next next = flow.next();
  if (next.end) {
    exchange_->end_stream();
    finish();
    return;
  }
  if (next.write_client) {
    exchange_->write(flow.take(), [self = shared_from_this()] {
      if (self->done_) return;
      self->call_->flow().written();
      self->last_write_ = Clock::now();
      self->pump();
    });
  }
  if (next.read_upstream) {
    flow.reading(true);
    call_->read_body([self = shared_from_this()](Failure failure, const std::string& detail) {
      self->on_body(failure, detail);
    });
  }
}

void Relay::on_body(Failure failure, const std::string& detail) {
  if (done_) return;
  call_->flow().reading(false);
  if (failure != Failure::kNone) {
    shared::log::RequestScope scope(exchange_->request().request_id);
    shared::log::info("upstream stream ended",
                      {{"upstream", options_.upstream_name}, {"error", detail}});
    // The client must not take a cut stream for a whole one: its connection is closed.
    exchange_->fail_stream();
    finish();
    return;
  }
  pump();
}

void Relay::schedule_comment() {
  const auto interval = options_.idle_comment;
  const auto soonest = Clock::now() + std::max<std::chrono::milliseconds>(
                                          interval / 4, std::chrono::milliseconds(10));
  comment_timer_->expires_at(std::max(last_write_ + interval, soonest));
  comment_timer_->async_wait([self = shared_from_this(), interval](boost::system::error_code ec) {
    if (ec || self->done_) return;
    RelayFlow& flow = self->call_->flow();
    if (!flow.is_writing() && flow.pending() == 0 && flow.at_event_boundary() &&
        Clock::now() - self->last_write_ >= interval) {
      static constexpr std::string_view kComment = ":\n\n";
      if (flow.add(kComment) == kComment.size()) self->pump();
    }
    self->schedule_comment();
  });
}

void Relay::abort() {
  // The client left: the upstream connection is closed, not given back.
  finish();
}

void Relay::finish() {
  if (done_) return;
  done_ = true;
  call_->cancel();
  if (comment_timer_) comment_timer_->cancel();
  options_.hold.reset();
}

}  // namespace app
