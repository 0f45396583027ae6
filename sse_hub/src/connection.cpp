#include "connection.h"

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <array>

#include "event_loop.h"
#include "hub_context.h"
#include "mercure_endpoints.h"
#include "shared/logging.h"

namespace hub {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using boost::system::error_code;

namespace {

// Buffers gathered into one write: enough to drain a burst without a syscall per event.
constexpr std::size_t kMaxBuffersPerWrite = 64;
// Past this many slots the queue's storage is released once it empties, so a burst does not
// leave an idle subscriber holding a large array.
constexpr std::size_t kQueueCapacityToKeep = 16;

const std::shared_ptr<const std::string>& heartbeat_chunk() {
  static const auto chunk = std::make_shared<const std::string>(http_chunk(":\n"));
  return chunk;
}

}  // namespace

struct Connection::Reader {
  boost::beast::flat_buffer buffer;
  std::optional<http::request_parser<http::string_body>> parser;
};

Connection::Connection(asio::ip::tcp::socket socket, EventLoop& loop) : socket_(std::move(socket)), loop_(loop) {}

Connection::~Connection() {
  if (state_ != State::kClosed) close();
}

void Connection::start() {
  loop_.track(this);
  tracked_ = true;
  loop_.hub().metrics.connections.inc();
  read_request();
}

void Connection::read_request() {
  const auto& config = loop_.hub().config;
  const bool first = !reader_;
  state_ = State::kReading;
  if (!reader_) reader_ = std::make_unique<Reader>();
  reader_->parser.emplace();
  reader_->parser->header_limit(static_cast<std::uint32_t>(config.max_header_bytes));
  reader_->parser->body_limit(config.max_update_bytes);
  deadline_ = std::chrono::steady_clock::now() + (first ? config.read_timeout : config.idle_timeout);
  http::async_read(socket_, reader_->buffer, *reader_->parser,
                   [self = shared_from_this()](error_code ec, std::size_t) { self->on_read(ec); });
}

void Connection::on_read(error_code ec) {
  if (state_ == State::kClosed) return;
  if (ec) {
    if (ec == http::error::body_limit) {
      respond(text_error(413, "Request Entity Too Large"), false);
    } else if (ec == http::error::header_limit) {
      respond(text_error(431, "Request Header Fields Too Large"), false);
    } else if (ec.category() == http::make_error_code(http::error::end_of_stream).category() && ec != http::error::end_of_stream &&
               ec != http::error::partial_message) {
      respond(text_error(400, "Bad Request"), false);
    } else {
      close();
    }
    return;
  }
  http::request<http::string_body> request = reader_->parser->release();
  const bool keep_alive = request.keep_alive() && !loop_.hub().stopping.load();
  RequestOutcome outcome;
  try {
    outcome = handle_request(request, loop_);
  } catch (const std::exception& e) {
    shared::log::error("request failed", {{"error", e.what()}, {"target", std::string(request.target())}});
    outcome.response = text_error(500, "Internal Server Error");
  }
  if (outcome.stream) {
    begin_stream(std::move(*outcome.stream));
  } else {
    respond(outcome.response, keep_alive && !closing_);
  }
}

void Connection::respond(const HttpResponse& response, bool keep_alive) {
  state_ = State::kResponding;
  keep_alive_ = keep_alive;
  enqueue(std::make_shared<const std::string>(render(response, keep_alive)));
}

void Connection::begin_stream(StreamStart start) {
  state_ = State::kStreaming;
  reader_.reset();
  error_code ignored;
  socket_.non_blocking(true, ignored);
  subscriber_ = std::move(start.subscriber);
  subscriber_->sink = this;
  info_ = std::move(start.info);
  expires_at_ = start.expires_at;
  loop_.index().add(subscriber_.get());
  loop_.hub().metrics.subscribers.inc();
  enqueue(std::make_shared<const std::string>(std::move(start.head)));
  // The replay may exceed the queue bound: it was asked for, and it is written at the socket's pace.
  for (auto& update : start.replay) enqueue(update->frame);
  last_write_ = std::chrono::steady_clock::now();
  if (info_) loop_.hub().subscriptions.add(info_);
  watch_for_close();
}

void Connection::deliver(const UpdatePtr& update) {
  if (state_ != State::kStreaming || closing_) return;
  // Frames are shared with every other subscriber, so a queue slot costs a pointer; the bounds are
  // on how far this subscriber may fall behind: a number of updates and what they weigh (a
  // single update larger than the byte bound still goes to a subscriber that is keeping up).
  const HubConfig& config = loop_.hub().config;
  const std::size_t queued = queue_.size() - queue_head_;
  if (queued >= config.subscriber_queue ||
      (queued > 0 && queued_bytes_ + update->frame->size() > config.subscriber_queue_bytes)) {
    loop_.hub().metrics.dropped_slow.inc();
    shared::log::warn("slow subscriber dropped", {{"subscriber", subscriber_->id}, {"reason", "queue_full"}});
    close_soon();
    return;
  }
  enqueue(update->frame);
}

void Connection::enqueue(std::shared_ptr<const std::string> bytes) {
  queued_bytes_ += bytes->size();
  queue_.push_back(std::move(bytes));
  if (!writing_) write_queued();
}

void Connection::write_queued() {
  const std::size_t available = queue_.size() - queue_head_;
  const std::size_t count = std::min(available, kMaxBuffersPerWrite);
  if (count == 0) return;
  in_flight_ = count;
  writing_ = true;
  write_started_ = std::chrono::steady_clock::now();
  auto done = [self = shared_from_this()](error_code ec, std::size_t) { self->on_written(ec); };
  if (count == 1) {  // the usual case for a subscriber that keeps up: no buffer list to allocate
    const auto& bytes = queue_[queue_head_];
    asio::async_write(socket_, asio::buffer(bytes->data(), bytes->size()), std::move(done));
    return;
  }
  std::vector<asio::const_buffer> buffers;
  buffers.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    const auto& bytes = queue_[queue_head_ + i];
    buffers.emplace_back(bytes->data(), bytes->size());
  }
  asio::async_write(socket_, buffers, std::move(done));
}

void Connection::on_written(error_code ec) {
  writing_ = false;
  if (state_ == State::kClosed) return;
  if (ec) {
    close();
    return;
  }
  for (std::size_t i = 0; i < in_flight_; ++i) {
    queued_bytes_ -= queue_[queue_head_ + i]->size();
    queue_[queue_head_ + i].reset();
  }
  queue_head_ += in_flight_;
  in_flight_ = 0;
  last_write_ = std::chrono::steady_clock::now();
  if (queue_head_ == queue_.size()) {
    queue_.clear();
    queue_head_ = 0;
    if (queue_.capacity() > kQueueCapacityToKeep) queue_.shrink_to_fit();
  }
  if (queue_head_ < queue_.size()) {
    write_queued();
    return;
  }
  if (state_ == State::kResponding) {
    if (keep_alive_ && !closing_) {
      read_request();
    } else {
      error_code ignored;
      socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
      close();
    }
  }
}

void Connection::watch_for_close() {
  socket_.async_wait(asio::ip::tcp::socket::wait_read, [self = shared_from_this()](error_code ec) {
    if (self->state_ == State::kClosed) return;
    if (ec) {
      self->close();
      return;
    }
    // A subscriber has nothing more to say: bytes are discarded, end of stream closes.
    std::array<char, 512> scratch;
    error_code read_ec;
    const std::size_t n = self->socket_.read_some(asio::buffer(scratch), read_ec);
    if (read_ec == asio::error::would_block || read_ec == asio::error::try_again) {
      self->watch_for_close();
    } else if (read_ec || n == 0) {
      self->close();
    } else {
      self->watch_for_close();
    }
  });
}

void Connection::close_soon() {
  if (closing_) return;
  closing_ = true;
  asio::post(loop_.context(), [self = shared_from_this()] { self->close(); });
}

Connection::SweepAction Connection::on_sweep(std::chrono::steady_clock::time_point now,
                                             std::chrono::system_clock::time_point wall) {
  const auto& config = loop_.hub().config;
  if (state_ == State::kClosed) return SweepAction::kNone;
  if (state_ == State::kReading && now > deadline_) return SweepAction::kClose;
  if (writing_ && now - write_started_ > config.write_timeout) {
    loop_.hub().metrics.dropped_write_timeout.inc();
    shared::log::warn("subscriber dropped",
                      {{"subscriber", subscriber_ ? subscriber_->id : std::string()}, {"reason", "write_timeout"}});
    return SweepAction::kClose;
  }
  if (state_ != State::kStreaming) return SweepAction::kNone;
  if (expires_at_ && wall >= *expires_at_) {
    loop_.hub().metrics.expired.inc();
    shared::log::debug("token expired: stream closed", {{"subscriber", subscriber_->id}});
    return SweepAction::kClose;
  }
  if (config.heartbeat.count() > 0 && !writing_ && now - last_write_ >= config.heartbeat) {
    enqueue(heartbeat_chunk());
  }
  return SweepAction::kNone;
}

bool Connection::drain() {
  if (state_ == State::kStreaming) return true;
  if (state_ == State::kReading && reader_ && reader_->parser && !reader_->parser->got_some()) return true;
  keep_alive_ = false;
  closing_ = true;
  return false;
}

void Connection::close() {
  if (state_ == State::kClosed) return;
  const bool was_streaming = state_ == State::kStreaming;
  state_ = State::kClosed;
  error_code ignored;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
  HubContext& hub = loop_.hub();
  if (was_streaming && subscriber_) {
    loop_.index().remove(subscriber_.get());
    hub.metrics.subscribers.dec();
    if (info_) {
      hub.subscriptions.remove(info_->subscriber);
      announce_subscription(hub, *info_, false);
    }
  }
  queue_.clear();
  queue_.shrink_to_fit();
  queue_head_ = 0;
  queued_bytes_ = 0;
  // reader_ stays: a read cancelled by the close above still completes later and writes into
  // its buffer (found by ASan at SIGTERM). It is freed with the connection, which that pending
  // handler keeps alive until then.
  if (tracked_) {
    loop_.untrack(this);
    tracked_ = false;
    hub.metrics.connections.dec();
  }
  hub.connections.fetch_sub(1);
}

}  // namespace hub
