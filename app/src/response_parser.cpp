#include "response_parser.h"

#include <boost/beast/http/error.hpp>

namespace app {

namespace http = boost::beast::http;
using boost::system::error_code;

ResponseParser::ResponseParser() {
  header_limit(kMaxHeadBytes);
  body_limit(boost::none);  // streams are unbounded in length; what is held is bounded by the flow
  eager(true);
}

void ResponseParser::on_request_impl(http::verb, boost::beast::string_view,
                                     boost::beast::string_view, int, error_code& ec) {
  ec = http::error::bad_version;
}

void ResponseParser::on_response_impl(int code, boost::beast::string_view, int, error_code& ec) {
  status_ = code;
  ec = {};
}

void ResponseParser::on_field_impl(http::field, boost::beast::string_view name,
                                   boost::beast::string_view value, error_code& ec) {
  if (headers_.size() >= kMaxFields) {
    ec = http::error::header_limit;
    return;
  }
  std::string lower(name);
  for (auto& c : lower)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  headers_.emplace_back(std::move(lower), std::string(value));
  ec = {};
}

std::size_t ResponseParser::take(boost::beast::string_view body, error_code& ec) {
  const std::size_t n = flow_ ? flow_->add(body) : 0;
  ec = (n == 0 && !body.empty()) ? error_code(http::error::need_buffer) : error_code();
  return n;
}

std::size_t ResponseParser::on_body_impl(boost::beast::string_view body, error_code& ec) {
  return take(body, ec);
}

std::size_t ResponseParser::on_chunk_body_impl(std::uint64_t, boost::beast::string_view body,
                                               error_code& ec) {
  return take(body, ec);
}

}  // namespace app
