// Reads one request from raw bytes with Boost.Beast's HTTP/1.1 parser and the app's limits:
// the whole head (request line and headers, APP_MAX_HEADER_BYTES) must fit before anything is
// parsed, the number of header fields is bounded while they are parsed (APP_MAX_HEADERS), and the
// body is bounded by APP_MAX_BODY. Beast refuses header names that are not tokens (a space, a
// folded line's leading whitespace) and control characters in values; it would merge an obsolete
// folded line into the previous value, so FoldScanner refuses those before Beast sees them.
#pragma once

#include <boost/beast/http/basic_parser.hpp>
#include <cstddef>
#include <string>
#include <string_view>

#include "request.h"

namespace app {

class RequestParser : public boost::beast::http::basic_parser<true> {
 public:
  RequestParser(std::size_t max_header_bytes, std::size_t max_header_count,
                std::size_t max_body_bytes);

  Request& request() { return request_; }
  // A Transfer-Encoding field was sent (with any value): the app reads no such body.
  bool saw_transfer_encoding() const { return saw_transfer_encoding_; }

 private:
  void on_request_impl(boost::beast::http::verb, boost::beast::string_view method,
                       boost::beast::string_view target, int version,
                       boost::system::error_code& ec) override;
  void on_response_impl(int, boost::beast::string_view, int,
                        boost::system::error_code& ec) override;
  void on_field_impl(boost::beast::http::field field, boost::beast::string_view name,
                     boost::beast::string_view value, boost::system::error_code& ec) override;
  void on_header_impl(boost::system::error_code& ec) override;
  void on_body_init_impl(const boost::optional<std::uint64_t>& length,
                         boost::system::error_code& ec) override;
  std::size_t on_body_impl(boost::beast::string_view body, boost::system::error_code& ec) override;
  void on_chunk_header_impl(std::uint64_t, boost::beast::string_view,
                            boost::system::error_code& ec) override;
  std::size_t on_chunk_body_impl(std::uint64_t, boost::beast::string_view body,
                                 boost::system::error_code& ec) override;
  void on_finish_impl(boost::system::error_code& ec) override;

  Request request_;
  std::size_t max_header_count_;
  std::size_t max_body_bytes_;
  bool saw_transfer_encoding_ = false;
};

// The answer to a request the parser refused: 431 for a head over either limit, 413 for a body
// over APP_MAX_BODY, 411 for Transfer-Encoding beside Content-Length, 505 for an HTTP version
// other than 1.0 and 1.1, 400 for anything else that is not HTTP.
struct ParseRefusal {
  int status;
  const char* code;
  std::string message;
};
ParseRefusal refusal_for(const boost::system::error_code& ec);

// Finds obsolete line folding (a header line that starts with a space or tab) in a request head
// that arrives in pieces, looking at each byte once.
class FoldScanner {
 public:
  // bytes: everything received of this request so far (a growing prefix). True when a folded
  // line was found; scanning stops at the end of the head.
  bool folded(std::string_view bytes);

 private:
  std::size_t scanned_ = 0;
  bool head_ended_ = false;
};

}  // namespace app
