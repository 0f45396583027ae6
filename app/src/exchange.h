// One request and its response, as a handler sees it: the request, and the calls that answer it
// either whole (respond) or as a stream whose pieces are written one after the other, each when
// the previous one has gone to the socket (begin_stream, write, end_stream). Everything happens on
// the connection's event loop thread. When the client goes away (or the server closes the
// connection) before the response is over, the abort callback runs once, so that the handler can
// let go of its upstream. An exchange dropped without an answer answers 500 by itself.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "request.h"
#include "response.h"

namespace app {

class EventLoop;
class ServerConnection;

class Exchange {
 public:
  Exchange(std::shared_ptr<ServerConnection> connection, Request request, EventLoop& loop);
  ~Exchange();
  Exchange(const Exchange&) = delete;
  Exchange& operator=(const Exchange&) = delete;

  const Request& request() const { return request_; }
  EventLoop& loop() { return loop_; }

  // The whole response.
  void respond(Response response);
  // Status and headers now; the body follows with write() and ends with end_stream().
  void begin_stream(Response head);
  // One piece of the body; written() runs once it has gone to the socket (never when the
  // client is gone: the abort callback runs instead).
  void write(std::string bytes, std::function<void()> written);
  void end_stream();
  // The body cannot be completed (the upstream broke off): the connection is closed so that the
  // client sees a truncated response, not a complete one.
  void fail_stream();

  void on_abort(std::function<void()> callback) { on_abort_ = std::move(callback); }
  // Shutdown closes this exchange's connection at once instead of waiting for the response to end
  // (event streams, which never end by themselves).
  void close_on_drain() { close_on_drain_ = true; }
  bool closes_on_drain() const { return close_on_drain_; }

  bool answered() const { return answered_; }  // respond() or begin_stream() was called
  bool over() const { return over_; }          // finished or aborted: nothing more goes out

  // Called by the connection.
  void aborted();
  void finished();

 private:
  std::shared_ptr<ServerConnection> connection_;
  Request request_;
  EventLoop& loop_;
  std::function<void()> on_abort_;
  bool answered_ = false;
  bool over_ = false;
  bool close_on_drain_ = false;
};

using ExchangePtr = std::shared_ptr<Exchange>;

// What answers requests: the app's router.
class RequestHandler {
 public:
  virtual ~RequestHandler() = default;
  // Answers now or later (through the exchange). May throw shared::http::HttpError for an error
  // answer before anything was sent.
  virtual void handle(const ExchangePtr& exchange) = 0;
};

}  // namespace app
