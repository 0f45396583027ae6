#include "exchange.h"

#include "server_connection.h"

namespace app {

Exchange::Exchange(std::shared_ptr<ServerConnection> connection, Request request, EventLoop& loop)
    : connection_(std::move(connection)), request_(std::move(request)), loop_(loop) {}

Exchange::~Exchange() {
  if (!over_) connection_->abandoned(*this);
}

void Exchange::respond(Response response) {
  if (over_ || answered_) return;
  answered_ = true;
  connection_->respond(*this, std::move(response));
}

void Exchange::begin_stream(Response head) {
  if (over_ || answered_) return;
  answered_ = true;
  connection_->begin_stream(*this, std::move(head));
}

void Exchange::write(std::string bytes, std::function<void()> written) {
  if (over_) return;
  connection_->write_piece(*this, std::move(bytes), std::move(written));
}

void Exchange::end_stream() {
  if (over_) return;
  connection_->end_stream(*this);
}

void Exchange::fail_stream() {
  if (over_) return;
  connection_->fail_stream(*this);
}

void Exchange::aborted() {
  if (over_) return;
  over_ = true;
  // Moved out first: the callback usually drops the last owner of whoever set it.
  auto callback = std::move(on_abort_);
  on_abort_ = nullptr;
  if (callback) callback();
}

void Exchange::finished() {
  over_ = true;
  // Released last, after every use of this object: it may hold the last owner of it.
  auto callback = std::move(on_abort_);
  on_abort_ = nullptr;
}

}  // namespace app
