#include "server_connection.h"

#include <array>
#include <boost/asio/write.hpp>
#include <boost/beast/http/error.hpp>
#include <ctime>

#include "event_loop.h"
#include "head_checks.h"
#include "request_log.h"
#include "response_framing.h"
#include "server_context.h"
#include "shared/http_error.h"
#include "shared/logging.h"

namespace app {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;

namespace {

// Room kept in the input buffer beyond the head limit: a read may bring the end of a head and
// the start of a body.
constexpr std::size_t kReadChunk = 16 * 1024;
// After an answer that closes the connection, what the client still sends is read and dropped
// for this long, so that the answer is not lost to a reset (a close with unread input sends RST).
constexpr auto kLingerTime = std::chrono::seconds(2);
constexpr std::size_t kLingerBytes = 1024 * 1024;

}  // namespace

ServerConnection::ServerConnection(asio::ip::tcp::socket socket, EventLoop& loop)
    : socket_(std::move(socket)),
      loop_(loop),
      server_(loop.server()),
      input_(loop.server().settings.max_header_bytes + kReadChunk) {
  error_code ec;
  const auto peer = socket_.remote_endpoint(ec);
  if (!ec) {
    auto address = peer.address();
    if (address.is_v6() && address.to_v6().is_v4_mapped())
      address = asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
    remote_addr_ = address.to_string();
    remote_port_ = peer.port();
  }
  socket_.non_blocking(true, ec);
}

ServerConnection::~ServerConnection() {
  if (tracked_) loop_.untrack(this);
  if (state_ != State::kClosed) server_.connections.fetch_sub(1);
}

void ServerConnection::start() {
  loop_.track(this);
  tracked_ = true;
  new_request(true);
  wait_readable();
}

void ServerConnection::new_request(bool first) {
  parser_.emplace(server_.settings.max_header_bytes, server_.settings.max_header_count,
                  server_.settings.max_body_bytes);
  parser_->eager(false);  // stop after the head: it is checked before any body is read
  folds_ = FoldScanner{};
  refused_request_.reset();
  status_ = 0;
  head_only_ = false;
  stream_chunked_ = false;
  recorded_ = false;
  const auto now = Clock::now();
  if (first || input_.size() > 0) {
    // A new connection must send its head within the read timeout, like a request under way.
    state_ = State::kHead;
    deadline_ = now + server_.settings.read_timeout;
  } else {
    state_ = State::kIdle;
    deadline_ = now + server_.settings.keep_alive_timeout;
    input_.shrink_to_fit();  // an idle connection holds no buffer
  }
}

void ServerConnection::wait_readable() {
  if (waiting_ || state_ == State::kClosed) return;
  waiting_ = true;
  socket_.async_wait(asio::ip::tcp::socket::wait_read, [self = shared_from_this()](error_code ec) {
    self->waiting_ = false;
    self->on_readable(ec);
  });
}

void ServerConnection::on_readable(error_code ec) {
  if (state_ == State::kClosed) return;
  if (ec) {
    close();
    return;
  }
  if (state_ == State::kLingering) {
    // Dropped as it comes, a few reads at a time so that a fast sender does not hold the loop,
    // and only up to kLingerBytes.
    const std::span<char> scratch = loop_.read_scratch();
    for (int i = 0; i < 8; ++i) {
      error_code read_ec;
      lingered_ += socket_.read_some(asio::buffer(scratch.data(), scratch.size()), read_ec);
      if (read_ec == asio::error::would_block || read_ec == asio::error::try_again) break;
      if (read_ec || lingered_ > kLingerBytes) {
        close();
        return;
      }
    }
    wait_readable();
    return;
  }
  const std::size_t room = input_.max_size() - input_.size();
  // Only while a request is handled can the buffer fill (a client sending ahead): stop reading
  // until the response is over.
  if (room == 0) return;
  error_code read_ec;
  const std::span<char> scratch = loop_.read_scratch();
  const std::size_t n =
      socket_.read_some(asio::buffer(scratch.data(), std::min(scratch.size(), room)), read_ec);
  if (read_ec == asio::error::would_block || read_ec == asio::error::try_again) {
    wait_readable();
    return;
  }
  if (read_ec || n == 0) {
    on_input_closed();
    return;
  }
  input_.commit(asio::buffer_copy(input_.prepare(n), asio::buffer(scratch.data(), n)));
  switch (state_) {
    case State::kIdle:
      state_ = State::kHead;
      deadline_ = Clock::now() + server_.settings.read_timeout;
      process_input();
      break;
    case State::kHead:
    case State::kBody:
      process_input();
      break;
    default:
      // Handling or answering: keep the bytes for the next request, and keep watching so that
      // a client that leaves is noticed.
      wait_readable();
      break;
  }
}

void ServerConnection::on_input_closed() {
  // A request cut short has nobody to answer; a client that leaves while its request is handled
  // aborts the exchange (and with it the upstream).
  close();
}

void ServerConnection::process_input() {
  for (;;) {
    if (state_ == State::kHead) {
      const auto data = input_.data();
      if (folds_.folded(std::string_view(static_cast<const char*>(data.data()), data.size()))) {
        refuse(400, "bad_request", "obsolete line folding is not accepted");
        return;
      }
      error_code ec;
      input_.consume(parser_->put(input_.data(), ec));
      if (ec == http::error::need_more) {
        wait_readable();
        return;
      }
      if (ec) {
        const ParseRefusal refusal = refusal_for(ec);
        refuse(refusal.status, refusal.code, refusal.message);
        return;
      }
      if (!parser_->is_header_done()) {
        wait_readable();
        return;
      }
      on_head();
      if (state_ != State::kBody) return;
      continue;
    }
    if (state_ == State::kBody) {
      if (input_.size() == 0) {
        wait_readable();
        return;
      }
      error_code ec;
      input_.consume(parser_->put(input_.data(), ec));
      if (ec && ec != http::error::need_more) {
        const ParseRefusal refusal = refusal_for(ec);
        refuse(refusal.status, refusal.code, refusal.message);
        return;
      }
      if (parser_->is_done()) {
        dispatch();
        return;
      }
      continue;
    }
    return;
  }
}

void ServerConnection::on_head() {
  Request& req = parser_->request();
  req.remote_addr = remote_addr_;
  req.remote_port = remote_port_;
  req.started = Clock::now();
  const std::string client_id = req.header("X-Request-Id");
  req.request_id =
      shared::log::plausible_request_id(client_id) ? client_id : shared::log::new_request_id();
  head_only_ = req.method == "HEAD";
  keep_alive_ = parser_->keep_alive() && !server_.stopping.load();
  const auto length = parser_->content_length();
  const HeadVerdict verdict =
      check_head(req, parser_->saw_transfer_encoding(),
                 length ? std::optional<std::uint64_t>(*length) : std::nullopt,
                 server_.settings.max_body_bytes);
  if (verdict.refused()) {
    refuse(verdict.status, verdict.code, verdict.message);
    return;
  }
  if (verdict.send_continue) enqueue(OutPiece{"HTTP/1.1 100 Continue\r\n\r\n", {}, nullptr});
  if (parser_->is_done()) {
    dispatch();
    return;
  }
  state_ = State::kBody;
  deadline_ = req.started + server_.settings.read_timeout;
  parser_->eager(true);
}

void ServerConnection::dispatch() {
  state_ = State::kHandling;
  auto exchange =
      std::make_shared<Exchange>(shared_from_this(), std::move(parser_->request()), loop_);
  parser_.reset();
  exchange_ = exchange.get();
  wait_readable();  // notices a client that leaves while its request is handled
  shared::log::RequestScope scope(exchange->request().request_id);
  try {
    server_.handler.handle(exchange);
  } catch (const shared::http::HttpError& e) {
    if (!exchange->answered()) exchange->respond(error_response(e.status(), e.code(), e.what()));
  } catch (const std::exception& e) {
    shared::log::error("unhandled exception in handler", {{"error", e.what()}});
    if (!exchange->answered()) exchange->respond(error_response(500, "internal", "internal error"));
  }
}

void ServerConnection::refuse(int status, const std::string& code, const std::string& message) {
  // What the client sent after this head (a body, or bytes made to look like another request)
  // is never parsed: the answer closes the connection.
  keep_alive_ = false;
  if (parser_) {
    refused_request_ = std::move(parser_->request());
    parser_.reset();
  } else {
    refused_request_.emplace();
  }
  Request& req = *refused_request_;
  if (req.request_id.empty()) req.request_id = shared::log::new_request_id();
  if (req.started == Clock::time_point{}) req.started = Clock::now();
  req.remote_addr = remote_addr_;
  req.remote_port = remote_port_;
  state_ = State::kResponding;
  send(error_response(status, code, message), false);
}

const Request* ServerConnection::current_request() const {
  if (exchange_) return &exchange_->request();
  if (refused_request_) return &*refused_request_;
  return nullptr;
}

void ServerConnection::respond(Exchange& exchange, Response response) {
  if (&exchange != exchange_ || state_ != State::kHandling) return;
  state_ = State::kResponding;
  send(std::move(response), false);
}

void ServerConnection::begin_stream(Exchange& exchange, Response head) {
  if (&exchange != exchange_ || state_ != State::kHandling) return;
  state_ = State::kStreaming;
  send(std::move(head), true);
}

void ServerConnection::write_piece(Exchange& exchange, std::string bytes,
                                   std::function<void()> written) {
  if (&exchange != exchange_ || state_ != State::kStreaming) return;
  if (head_only_ || bytes.empty()) {
    enqueue(OutPiece{{}, {}, std::move(written)});
    return;
  }
  if (stream_chunked_) {
    // Queued together, so that the chunk goes out in one write.
    queue_.push_back(OutPiece{chunk_size_line(bytes.size()), {}, nullptr});
    queue_.push_back(OutPiece{std::move(bytes), {}, nullptr});
    enqueue(OutPiece{{}, "\r\n", std::move(written)});
  } else {
    enqueue(OutPiece{std::move(bytes), {}, std::move(written)});
  }
}

void ServerConnection::end_stream(Exchange& exchange) {
  if (&exchange != exchange_ || state_ != State::kStreaming) return;
  state_ = State::kResponding;
  auto done = [this] { finish_exchange(); };
  if (stream_chunked_ && !head_only_) {
    enqueue(OutPiece{{}, "0\r\n\r\n", done});
  } else {
    // An HTTP/1.0 stream ends with the connection.
    if (!stream_chunked_) keep_alive_ = false;
    enqueue(OutPiece{{}, {}, done});
  }
}

void ServerConnection::fail_stream(Exchange& exchange) {
  if (&exchange != exchange_) return;
  close();
}

void ServerConnection::abandoned(Exchange& exchange) {
  if (&exchange != exchange_) return;
  // The exchange is being destroyed: keep its request for the log line, and answer for it.
  refused_request_ = exchange.request();
  exchange_ = nullptr;
  if (state_ == State::kHandling) {
    shared::log::RequestScope scope(refused_request_->request_id);
    shared::log::error("request dropped without an answer", {{"path", refused_request_->path}});
    state_ = State::kResponding;
    keep_alive_ = false;
    send(error_response(500, "internal", "internal error"), false);
  } else if (state_ == State::kStreaming) {
    close();
  }
}

void ServerConnection::send(Response response, bool stream) {
  status_ = response.status;
  OutPiece head{frame(response, stream), {}, nullptr};
  const bool has_body =
      !stream && !head_only_ && !bodiless_status(status_) && !response.body_view().empty();
  if (stream) {
    enqueue(std::move(head));
    return;
  }
  auto done = [this] { finish_exchange(); };
  if (!has_body) {
    head.done = done;
    enqueue(std::move(head));
    return;
  }
  queue_.push_back(std::move(head));  // goes out with the body, in one write
  OutPiece body;
  if (!response.body.empty()) {
    body.owned = std::move(response.body);
  } else {
    body.view = response.static_body;
  }
  body.done = done;
  enqueue(std::move(body));
}

std::string ServerConnection::frame(Response& response, bool stream) {
  const Request* req = current_request();
  if (server_.decorate) server_.decorate(req, response);
  HeadFraming framing;
  framing.stream = stream;
  framing.version = req ? req->version : 11;
  framing.keep_alive = keep_alive_ && !server_.stopping.load();
  if (req) framing.request_id = req->request_id;
  FramedHead head = frame_head(response, framing);
  stream_chunked_ = head.chunked;
  keep_alive_ = head.keep_alive;
  return std::move(head.text);
}

void ServerConnection::enqueue(OutPiece piece) {
  queue_.push_back(std::move(piece));
  if (!writing_) write_queued();
}

void ServerConnection::write_queued() {
  if (queue_.empty() || state_ == State::kClosed) return;
  in_flight_.swap(queue_);
  std::vector<asio::const_buffer> buffers;
  buffers.reserve(in_flight_.size());
  for (const auto& piece : in_flight_) {
    const std::string_view bytes = piece.owned.empty() ? piece.view : std::string_view(piece.owned);
    if (!bytes.empty()) buffers.emplace_back(bytes.data(), bytes.size());
  }
  writing_ = true;
  write_started_ = Clock::now();
  asio::async_write(socket_, buffers, [self = shared_from_this()](error_code ec, std::size_t) {
    self->on_written(ec);
  });
}

void ServerConnection::on_written(error_code ec) {
  writing_ = false;
  if (state_ == State::kClosed) {
    in_flight_.clear();
    return;
  }
  if (ec) {
    close();
    return;
  }
  auto self = shared_from_this();
  std::vector<OutPiece> done = std::move(in_flight_);
  in_flight_.clear();
  const Request* req = current_request();
  shared::log::RequestScope scope(req ? req->request_id : std::string());
  for (auto& piece : done) {
    if (piece.done) {
      piece.done();
      if (state_ == State::kClosed) return;
    }
  }
  if (!writing_ && !queue_.empty()) write_queued();
}

void ServerConnection::finish_exchange() {
  auto self = shared_from_this();
  record(status_);
  if (exchange_) {
    Exchange* exchange = exchange_;
    exchange_ = nullptr;
    exchange->finished();
  }
  refused_request_.reset();
  if (!keep_alive_ || server_.stopping.load()) {
    begin_lingering_close();
    return;
  }
  new_request(false);
  if (state_ == State::kHead) {
    process_input();
  } else {
    wait_readable();
  }
}

void ServerConnection::begin_lingering_close() {
  state_ = State::kLingering;
  deadline_ = Clock::now() + kLingerTime;
  lingered_ = 0;
  error_code ignored;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  input_.consume(input_.size());
  input_.shrink_to_fit();
  parser_.reset();
  wait_readable();
}

void ServerConnection::record(int status) {
  if (recorded_) return;
  const Request* req = current_request();
  if (!req) return;
  recorded_ = true;
  record_request(server_.metrics, server_.service, *req, status);
}

bool ServerConnection::expired(Clock::time_point now) {
  switch (state_) {
    case State::kIdle:
    case State::kLingering:
      return now > deadline_;
    case State::kHead:
    case State::kBody:
      if (now > deadline_) {
        refuse(408, "request_timeout", "the request was not received within the read timeout");
        return false;
      }
      return false;
    default:
      break;
  }
  return writing_ && now - write_started_ > server_.settings.write_timeout;
}

bool ServerConnection::drain() {
  if (state_ == State::kIdle || state_ == State::kLingering) return true;
  if (state_ == State::kHead && input_.size() == 0 && parser_ && !parser_->got_some()) return true;
  if (exchange_ && exchange_->closes_on_drain()) return true;
  keep_alive_ = false;
  return false;
}

void ServerConnection::close() {
  if (state_ == State::kClosed) return;
  auto self = shared_from_this();
  const bool answering =
      state_ == State::kHandling || state_ == State::kResponding || state_ == State::kStreaming;
  if (answering) record(status_ != 0 ? status_ : 499);  // 499: the client left first (nginx's word)
  state_ = State::kClosed;
  error_code ignored;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
  queue_.clear();
  server_.connections.fetch_sub(1);
  if (tracked_) {
    loop_.untrack(this);
    tracked_ = false;
  }
  if (exchange_) {
    Exchange* exchange = exchange_;
    exchange_ = nullptr;
    shared::log::RequestScope scope(exchange->request().request_id);
    exchange->aborted();
  }
}

}  // namespace app
