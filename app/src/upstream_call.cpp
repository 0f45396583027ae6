#include "upstream_call.h"

#include <array>
#include <boost/asio/connect.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/error.hpp>

#include "upstream_pool.h"

namespace app {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::size_t kReadChunk = 16 * 1024;

bool repeatable(const std::string& method) {
  return method == "GET" || method == "HEAD" || method == "PUT" || method == "DELETE" ||
         method == "OPTIONS";
}

}  // namespace

UpstreamCall::UpstreamCall(UpstreamPool& pool, UpstreamRequest request, UpstreamTimeouts timeouts,
                           std::size_t buffer_bytes)
    : pool_(pool),
      request_(std::move(request)),
      timeouts_(timeouts),
      flow_(buffer_bytes),
      timer_(pool.context()),
      raw_(ResponseParser::kMaxHeadBytes + kReadChunk) {
  parser_.emplace();
  parser_->sink(&flow_);
}

UpstreamCall::~UpstreamCall() = default;

std::optional<std::uint64_t> UpstreamCall::content_length() const {
  if (!parser_->is_header_done()) return std::nullopt;
  const auto length = parser_->content_length();
  return length ? std::optional<std::uint64_t>(*length) : std::nullopt;
}

void UpstreamCall::start(Callback done) {
  pending_ = std::move(done);
  started_ = Clock::now();
  if (auto socket = pool_.take()) {
    socket_.emplace(std::move(*socket));
    reused_ = true;
    write_request();
  } else {
    connect();
  }
}

void UpstreamCall::connect() {
  socket_.emplace(pool_.context());
  reused_ = false;
  set_phase(Phase::kConnecting);
  socket_->async_connect(pool_.endpoint(), [self = shared_from_this()](error_code ec) {
    if (self->finished_) return;
    if (ec) {
      self->fail(Failure::kConnect, "connect: " + ec.message());
      return;
    }
    error_code ignored;
    self->socket_->set_option(asio::ip::tcp::no_delay(true), ignored);
    self->socket_->non_blocking(true, ignored);
    self->write_request();
  });
}

void UpstreamCall::write_request() {
  if (request_text_.empty()) {
    std::string& t = request_text_;
    t.reserve(256 + request_.body.size() / 8);
    t += request_.method + " " + request_.target + " HTTP/1.1\r\nHost: " + request_.host + "\r\n";
    for (const auto& [name, value] : request_.headers) t += name + ": " + value + "\r\n";
    if (!request_.body.empty() ||
        (request_.method != "GET" && request_.method != "HEAD" && request_.method != "DELETE"))
      t += "Content-Length: " + std::to_string(request_.body.size()) + "\r\n";
    t += "\r\n";
  }
  set_phase(Phase::kWriting);
  const std::array<asio::const_buffer, 2> buffers{asio::buffer(request_text_),
                                                  asio::buffer(request_.body)};
  asio::async_write(*socket_, buffers, [self = shared_from_this()](error_code ec, std::size_t) {
    if (self->finished_) return;
    if (ec) {
      if (self->retry_on_fresh_connection()) return;
      self->fail(Failure::kBroken, "write: " + ec.message());
      return;
    }
    self->set_phase(Phase::kReadingHead);
    self->read_more();
  });
}

void UpstreamCall::read_body(Callback done) {
  if (finished_) {
    // Nothing more will come: the body ended, or the exchange failed while nobody was reading
    // (a timeout while the client was being written to).
    done(
        flow_.ended() ? Failure::kNone : (failure_ == Failure::kNone ? Failure::kBroken : failure_),
        flow_.ended() ? std::string() : std::string("the upstream exchange ended early"));
    return;
  }
  pending_ = std::move(done);
  added_ = 0;
  set_phase(Phase::kReadingBody);
  if (raw_.size() > 0) {
    parse();
  } else {
    read_more();
  }
}

void UpstreamCall::read_more() {
  // Waits for readability and then reads into the thread's scratch buffer (one per event loop),
  // so that a quiet stream holds no read buffer of its own while it waits.
  socket_->async_wait(asio::ip::tcp::socket::wait_read, [self = shared_from_this()](error_code ec) {
    if (self->finished_) return;
    if (ec) {
      self->on_read(ec, 0);
      return;
    }
    thread_local std::array<char, kReadChunk> scratch;
    const std::size_t room = self->raw_.max_size() - self->raw_.size();
    if (room == 0) {
      self->fail(Failure::kBroken, "response head too large");
      return;
    }
    error_code read_ec;
    const std::size_t n = self->socket_->read_some(
        asio::buffer(scratch.data(), std::min(room, scratch.size())), read_ec);
    if (read_ec == asio::error::would_block || read_ec == asio::error::try_again) {
      self->read_more();
      return;
    }
    if (!read_ec)
      self->raw_.commit(asio::buffer_copy(self->raw_.prepare(n), asio::buffer(scratch.data(), n)));
    self->on_read(read_ec, n);
  });
}

void UpstreamCall::on_read(error_code ec, std::size_t) {
  if (finished_) return;
  if (ec == asio::error::eof && head_done_) {
    // A body that runs to the end of the connection ends here; any other is cut short.
    error_code eof_ec;
    parser_->put_eof(eof_ec);
    if (eof_ec) {
      fail(Failure::kBroken, "the upstream closed the connection mid-response");
      return;
    }
    socket_.reset();
    body_ended();
    return;
  }
  if (ec) {
    if (!got_bytes_ && retry_on_fresh_connection()) return;
    fail(Failure::kBroken, ec == asio::error::eof ? "closed the connection without answering"
                                                  : "read: " + ec.message());
    return;
  }
  got_bytes_ = true;
  last_byte_ = Clock::now();
  parse();
}

void UpstreamCall::parse() {
  for (;;) {
    error_code ec;
    const std::size_t before = flow_.pending();
    const std::size_t used = parser_->put(raw_.data(), ec);
    raw_.consume(used);
    added_ += flow_.pending() - before;
    if (ec && ec != http::error::need_more && ec != http::error::need_buffer) {
      fail(Failure::kBroken, "malformed response: " + ec.message());
      return;
    }
    if (!head_done_) {
      if (!parser_->is_header_done()) {
        read_more();
        return;
      }
      const int status = parser_->status();
      if (status >= 100 && status < 200 && status != 101) {
        parser_.emplace();  // an interim answer: the real one follows
        parser_->sink(&flow_);
        continue;
      }
      if (status == 101) {
        fail(Failure::kBroken, "the upstream switched protocols");
        return;
      }
      head_done_ = true;
      if (parser_->is_done()) {
        body_ended();
        return;
      }
      set_phase(Phase::kIdle);
      complete(Failure::kNone, {});
      return;
    }
    if (parser_->is_done()) {
      body_ended();
      return;
    }
    if (ec == http::error::need_buffer || added_ > 0) {  // the flow is full, or has news
      set_phase(Phase::kIdle);
      complete(Failure::kNone, {});
      return;
    }
    if (ec == http::error::need_more || raw_.size() == 0 || used == 0) {
      read_more();
      return;
    }
  }
}

void UpstreamCall::body_ended() {
  flow_.upstream_ended();
  finished_ = true;
  set_phase(Phase::kDone);
  timer_.cancel();
  if (socket_ && parser_->keep_alive() && raw_.size() == 0) pool_.give_back(std::move(*socket_));
  socket_.reset();
  complete(Failure::kNone, {});
}

bool UpstreamCall::retry_on_fresh_connection() {
  if (!reused_ || retried_ || got_bytes_ || !repeatable(request_.method)) return false;
  retried_ = true;
  socket_.reset();
  connect();
  return true;
}

void UpstreamCall::fail(Failure failure, const std::string& detail) {
  if (finished_) return;
  finished_ = true;
  failure_ = failure;
  set_phase(Phase::kDone);
  timer_.cancel();
  if (socket_) {
    error_code ignored;
    socket_->close(ignored);
  }
  complete(failure, detail);
}

void UpstreamCall::complete(Failure failure, const std::string& detail) {
  auto callback = std::move(pending_);
  pending_ = nullptr;
  if (callback) callback(failure, detail);
}

void UpstreamCall::cancel() {
  pending_ = nullptr;
  if (finished_) return;
  finished_ = true;
  set_phase(Phase::kDone);
  timer_.cancel();
  if (socket_) {
    error_code ignored;
    socket_->close(ignored);
  }
}

std::optional<Clock::time_point> UpstreamCall::next_deadline() const {
  if (finished_) return std::nullopt;
  std::optional<Clock::time_point> next;
  auto consider = [&next](Clock::time_point t) {
    if (!next || t < *next) next = t;
  };
  if (timeouts_.total.count() > 0) consider(started_ + timeouts_.total);
  if (phase_ == Phase::kConnecting) consider(phase_started_ + timeouts_.connect);
  const bool awaiting =
      phase_ == Phase::kWriting || phase_ == Phase::kReadingHead || phase_ == Phase::kReadingBody;
  if (awaiting && timeouts_.stall.count() > 0)
    consider(std::max(phase_started_, last_byte_) + timeouts_.stall);
  return next;
}

void UpstreamCall::set_phase(Phase phase) {
  if (phase != phase_) {
    phase_ = phase;
    phase_started_ = Clock::now();
  }
  if (phase == Phase::kDone) return;
  // The timer is moved earlier when this phase has an earlier deadline; later ones are found
  // when it fires.
  const auto next = next_deadline();
  if (next && (!armed_at_ || *next < *armed_at_)) arm_timer();
}

void UpstreamCall::arm_timer() {
  const auto next = next_deadline();
  armed_at_ = next;
  if (!next) return;
  timer_.expires_at(*next);
  timer_.async_wait([self = shared_from_this(), at = *next](error_code ec) {
    if (ec || self->finished_ || self->armed_at_ != at) return;
    self->armed_at_.reset();
    self->on_timer();
  });
}

void UpstreamCall::on_timer() {
  const auto now = Clock::now();
  if (timeouts_.total.count() > 0 && now >= started_ + timeouts_.total) {
    fail(Failure::kTimeout, "no complete answer within the timeout");
    return;
  }
  if (phase_ == Phase::kConnecting && now >= phase_started_ + timeouts_.connect) {
    fail(Failure::kTimeout, "connect timed out");
    return;
  }
  const bool awaiting =
      phase_ == Phase::kWriting || phase_ == Phase::kReadingHead || phase_ == Phase::kReadingBody;
  if (awaiting && timeouts_.stall.count() > 0 &&
      now >= std::max(phase_started_, last_byte_) + timeouts_.stall) {
    fail(Failure::kTimeout, "no byte within the stall timeout");
    return;
  }
  arm_timer();
}

}  // namespace app
