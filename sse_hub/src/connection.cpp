#include "connection.h"

#include <array>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http.hpp>

#include "access_log.h"
#include "event_loop.h"
#include "hub_context.h"
#include "mercure_endpoints.h"
#include "redis_bridge.h"
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

constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

const std::shared_ptr<const std::string>& heartbeat_chunk() {
  static const auto chunk = std::make_shared<const std::string>(http_chunk(":\n"));
  return chunk;
}

const std::shared_ptr<const std::string>& final_chunk() {
  static const auto chunk = std::make_shared<const std::string>("0\r\n\r\n");
  return chunk;
}

bool expects_continue(const http::request_parser<http::string_body>& parser) {
  const auto& request = parser.get();
  return request.version() >= 11 &&
         boost::beast::iequals(request[http::field::expect], "100-continue");
}

}  // namespace

struct Connection::Reader {
  boost::beast::flat_buffer buffer;
  std::optional<http::request_parser<http::string_body>> parser;
};

Connection::Connection(asio::ip::tcp::socket socket, EventLoop& loop)
    : socket_(std::move(socket)), loop_(loop) {}

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
  deadline_ =
      std::chrono::steady_clock::now() + (first ? config.read_timeout : config.idle_timeout);
  // The head first: a client that sent Expect: 100-continue waits for an answer before its body
  // (curl and libcurl wait a second for it).
  http::async_read_header(
      socket_, reader_->buffer, *reader_->parser,
      [self = shared_from_this()](error_code ec, std::size_t) { self->on_header(ec); });
}

void Connection::on_header(error_code ec) {
  if (state_ == State::kClosed) return;
  request_started_ = std::chrono::steady_clock::now();
  auto& parser = *reader_->parser;
  if (ec || parser.is_done()) {
    on_read(ec);
    return;
  }
  if (expects_continue(parser)) {
    // The body limit was checked on the head's Content-Length: a body too large has been refused
    // (413) before this point, without a 100 Continue.
    asio::async_write(socket_, asio::buffer(kContinue.data(), kContinue.size()),
                      [self = shared_from_this()](error_code write_ec, std::size_t) {
                        if (self->state_ == State::kClosed) return;
                        if (write_ec) {
                          self->close();
                          return;
                        }
                        self->read_body();
                      });
    return;
  }
  // A body that arrived with its head (the usual publish) is parsed from the buffer now, without
  // a second read operation.
  parser.eager(true);
  while (!parser.is_done() && reader_->buffer.size() > 0) {
    error_code put_ec;
    const std::size_t used = parser.put(reader_->buffer.data(), put_ec);
    reader_->buffer.consume(used);
    if (put_ec == http::error::need_more || (!put_ec && used == 0)) break;
    if (put_ec) {
      on_read(put_ec);
      return;
    }
  }
  if (parser.is_done()) {
    on_read({});
    return;
  }
  read_body();
}

void Connection::read_body() {
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
    } else if (ec.category() == http::make_error_code(http::error::end_of_stream).category() &&
               ec != http::error::end_of_stream && ec != http::error::partial_message) {
      respond(text_error(400, "Bad Request"), false);
    } else {
      close();
    }
    return;
  }
  http::request<http::string_body> request = reader_->parser->release();
  const bool keep_alive = request.keep_alive() && !loop_.hub().stopping.load();
  const bool with_body = request.method() != http::verb::head;
  request_id_ = request_id_for(request[kRequestIdHeader]);
  request.set(kRequestIdHeader, request_id_);  // the endpoints put it on a stream's head
  shared::log::RequestScope scope(request_id_);
  RequestOutcome outcome;
  try {
    outcome = handle_request(request, loop_);
  } catch (const std::exception& e) {
    shared::log::error("request failed", {{"error", e.what()}});
    outcome = RequestOutcome{};
    outcome.response = text_error(500, "Internal Server Error");
  }
  if (outcome.pending) {
    outcome.pending->accepted.header(std::string(kRequestIdHeader), request_id_);
    outcome.pending->refused.header(std::string(kRequestIdHeader), request_id_);
  } else if (!outcome.stream) {
    outcome.response.header(std::string(kRequestIdHeader), request_id_);
    log_access(request.method_string(), request.target(), outcome.response.status, false);
  }
  if (outcome.stream) {
    begin_stream(std::move(*outcome.stream));
  } else if (outcome.pending) {
    await_redis(std::move(*outcome.pending), keep_alive && !closing_);
  } else {
    respond(outcome.response, keep_alive && !closing_, with_body);
  }
}

void Connection::respond(const HttpResponse& response, bool keep_alive, bool with_body) {
  state_ = State::kResponding;
  keep_alive_ = keep_alive;
  enqueue(std::make_shared<const std::string>(render(response, keep_alive, with_body)));
}

void Connection::await_redis(PendingPublish pending, bool keep_alive) {
  state_ = State::kResponding;
  keep_alive_ = keep_alive;
  RedisBridge& redis = *loop_.hub().redis;
  // Runs on the Redis writer's thread, within HUB_REDIS_TIMEOUT: it only posts the answer back to
  // this connection's loop. The connection is moved into the posted handler, so that it is never
  // released (nor destroyed) on the writer's thread.
  auto done = [self = shared_from_this(), accepted = render(pending.accepted, keep_alive),
               refused = render(pending.refused, keep_alive)](bool written) mutable {
    asio::io_context& context = self->loop_.context();
    asio::post(context, [self = std::move(self), written,
                         bytes = written ? std::move(accepted) : std::move(refused)]() mutable {
      self->on_redis_answer(written, std::move(bytes));
    });
  };
  if (!redis.publish(pending.update, std::move(done))) {
    log_access("POST", kMercurePath, 503, false);
    shared::log::warn("publish refused: Redis is down or its queue is full",
                      {{"id", pending.update.id}});
    enqueue(std::make_shared<const std::string>(render(pending.refused, keep_alive)));
  }
}

void Connection::on_redis_answer(bool written, std::string response) {
  if (state_ == State::kClosed) return;
  shared::log::RequestScope scope(request_id_);
  if (written) {
    loop_.hub().metrics.published.inc();
  } else {
    shared::log::warn("publish failed: Redis did not take it in time");
  }
  log_access("POST", kMercurePath, written ? 200 : 503, false);
  enqueue(std::make_shared<const std::string>(std::move(response)));
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
  chunked_ = start.chunked;
  loop_.index().add(subscriber_.get());
  loop_.hub().metrics.subscribers.inc();
  head_unsent_ = true;
  enqueue(std::make_shared<const std::string>(std::move(start.head)));
  // The replay may exceed the queue bound: it was asked for, and it is written at the socket's
  // pace.
  for (auto& update : start.replay) enqueue(update->frame);
  last_write_ = std::chrono::steady_clock::now();
  if (info_) loop_.hub().subscriptions.add(info_);
  watch_for_close();
}

void Connection::deliver(const UpdatePtr& update) {
  if (state_ != State::kStreaming || closing_ || ending_) return;
  // Frames are shared with every other subscriber, so a queue slot costs a pointer; the bounds are
  // on how far this subscriber may fall behind: a number of updates and what they weigh (a
  // single update larger than the byte bound still goes to a subscriber that is keeping up).
  const HubConfig& config = loop_.hub().config;
  const std::size_t queued = queue_.size() - queue_head_;
  if (queued >= config.subscriber_queue ||
      (queued > 0 && queued_bytes_ + update->frame->size() > config.subscriber_queue_bytes)) {
    loop_.hub().metrics.dropped_slow.inc();
    shared::log::RequestScope scope(request_id_);
    shared::log::warn("slow subscriber dropped",
                      {{"subscriber", subscriber_->id}, {"reason", "queue_full"}});
    // What is already on its way is finished, the rest forgotten, and the stream ended properly:
    // the client resumes from the last complete event it got. If it reads nothing more, the
    // write timeout closes the connection.
    discard_unsent();
    end_stream();
    return;
  }
  enqueue(update->frame);
}

void Connection::enqueue(std::shared_ptr<const std::string> bytes) {
  queued_bytes_ += bytes->size();
  queue_.push_back(std::move(bytes));
  if (!writing_) write_queued();
}

asio::const_buffer Connection::wire_bytes(std::size_t i) const {
  const std::string& bytes = *queue_[i];
  if (chunked_ || state_ != State::kStreaming || (i == queue_head_ && head_unsent_)) {
    return {bytes.data(), bytes.size()};
  }
  // "<hex size>\r\n<payload>\r\n": the payload alone, still shared with the other subscribers.
  const std::size_t start = bytes.find('\n') + 1;
  return {bytes.data() + start, bytes.size() - start - 2};
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
    asio::async_write(socket_, wire_bytes(queue_head_), std::move(done));
    return;
  }
  std::vector<asio::const_buffer> buffers;
  buffers.reserve(count);
  for (std::size_t i = 0; i < count; ++i) buffers.push_back(wire_bytes(queue_head_ + i));
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
  if (in_flight_ > 0) head_unsent_ = false;
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
      return;
    }
  } else if (!(state_ == State::kStreaming && ending_)) {
    return;  // a stream with nothing queued: wait for the next update
  }
  // The answer, or the ended stream, is out: the connection is done.
  error_code ignored;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  close();
}

void Connection::end_stream() {
  if (state_ != State::kStreaming || ending_ || closing_) return;
  ending_ = true;
  if (chunked_) {
    enqueue(final_chunk());
  } else if (!writing_) {
    // An HTTP/1.0 stream ends with the connection. Never closed right here: the caller may be
    // walking the loop's subscribers or connections.
    close_soon();
  }
}

void Connection::discard_unsent() {
  const std::size_t keep = queue_head_ + (writing_ ? in_flight_ : 0);
  for (std::size_t i = keep; i < queue_.size(); ++i) queued_bytes_ -= queue_[i]->size();
  queue_.resize(keep);
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
    shared::log::RequestScope scope(request_id_);
    shared::log::warn("subscriber dropped",
                      {{"subscriber", subscriber_ ? subscriber_->id : std::string()},
                       {"reason", "write_timeout"}});
    return SweepAction::kClose;
  }
  if (state_ != State::kStreaming || ending_) return SweepAction::kNone;
  if (expires_at_ && wall >= *expires_at_) {
    loop_.hub().metrics.expired.inc();
    shared::log::RequestScope scope(request_id_);
    shared::log::debug("token expired: stream ended", {{"subscriber", subscriber_->id}});
    end_stream();
    return SweepAction::kNone;
  }
  if (config.heartbeat.count() > 0 && !writing_ && now - last_write_ >= config.heartbeat) {
    enqueue(heartbeat_chunk());
  }
  return SweepAction::kNone;
}

bool Connection::drain() {
  if (state_ == State::kStreaming) {
    end_stream();
    return false;
  }
  if (state_ == State::kReading && reader_ && reader_->parser && !reader_->parser->got_some())
    return true;
  keep_alive_ = false;
  closing_ = true;
  return false;
}

void Connection::log_access(std::string_view method, std::string_view target, int status,
                            bool stream) {
  const HubConfig& config = loop_.hub().config;
  if (!logs_request(config.access_log, status)) return;
  error_code ec;
  const auto peer = socket_.remote_endpoint(ec);
  const std::string remote = ec ? std::string() : peer.address().to_string();
  shared::log::RequestScope scope(request_id_);
  write_access_line({.method = method,
                     .target = target,
                     .status = status,
                     .duration = std::chrono::steady_clock::now() - request_started_,
                     .remote = remote,
                     .stream = stream});
}

void Connection::close() {
  if (state_ == State::kClosed) return;
  const bool was_streaming = state_ == State::kStreaming;
  if (was_streaming && subscriber_)
    log_access("GET", kMercurePath, 200, true);  // while the peer is known
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
