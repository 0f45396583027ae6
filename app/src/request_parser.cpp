#include "request_parser.h"

#include <algorithm>
#include <boost/beast/http/error.hpp>

namespace app {

namespace http = boost::beast::http;
using boost::system::error_code;

RequestParser::RequestParser(std::size_t max_header_bytes, std::size_t max_header_count,
                             std::size_t max_body_bytes)
    : max_header_count_(max_header_count), max_body_bytes_(max_body_bytes) {
  header_limit(static_cast<std::uint32_t>(max_header_bytes));
  body_limit(static_cast<std::uint64_t>(max_body_bytes));
  eager(true);
}

void RequestParser::on_request_impl(http::verb, boost::beast::string_view method,
                                    boost::beast::string_view target, int version, error_code& ec) {
  request_.method.assign(method);
  request_.target.assign(target);
  request_.path = request_.target.substr(0, request_.target.find('?'));
  request_.version = version;
  ec = {};
}

void RequestParser::on_response_impl(int, boost::beast::string_view, int, error_code& ec) {
  ec = http::error::bad_method;
}

void RequestParser::on_field_impl(http::field field, boost::beast::string_view name,
                                  boost::beast::string_view value, error_code& ec) {
  // Counted here, while Beast parses, so that a head of thousands of tiny fields is refused
  // before they are all stored.
  if (request_.headers.size() >= max_header_count_) {
    ec = http::error::header_limit;
    return;
  }
  if (field == http::field::transfer_encoding) saw_transfer_encoding_ = true;
  request_.headers.add(std::string(name), std::string(value));
  ec = {};
}

void RequestParser::on_header_impl(error_code& ec) { ec = {}; }

void RequestParser::on_body_init_impl(const boost::optional<std::uint64_t>& length,
                                      error_code& ec) {
  if (length)
    request_.body.reserve(
        static_cast<std::size_t>(std::min<std::uint64_t>(*length, max_body_bytes_)));
  ec = {};
}

std::size_t RequestParser::on_body_impl(boost::beast::string_view body, error_code& ec) {
  request_.body.append(body);
  ec = {};
  return body.size();
}

void RequestParser::on_chunk_header_impl(std::uint64_t, boost::beast::string_view, error_code& ec) {
  ec = {};
}

std::size_t RequestParser::on_chunk_body_impl(std::uint64_t, boost::beast::string_view body,
                                              error_code& ec) {
  // Chunked request bodies are refused once the head is in (411); Beast's body limit still
  // bounds this if that ever changes.
  request_.body.append(body);
  ec = {};
  return body.size();
}

void RequestParser::on_finish_impl(error_code& ec) { ec = {}; }

ParseRefusal refusal_for(const error_code& ec) {
  if (ec == http::error::header_limit)
    return {431, "headers_too_large", "request headers exceed the limit"};
  if (ec == http::error::body_limit)
    return {413, "payload_too_large", "the body exceeds the limit"};
  if (ec == http::error::bad_transfer_encoding)
    return {411, "length_required", "chunked request bodies are not accepted; send Content-Length"};
  if (ec == http::error::bad_version)
    return {505, "http_version_not_supported", "only HTTP/1.0 and HTTP/1.1 are spoken here"};
  return {400, "bad_request", "malformed request: " + ec.message()};
}

bool FoldScanner::folded(std::string_view bytes) {
  if (head_ended_) return false;
  for (std::size_t i = std::max<std::size_t>(scanned_, 1); i < bytes.size(); ++i) {
    if (bytes[i - 1] != '\n') continue;
    if (bytes[i] == ' ' || bytes[i] == '\t') return true;
    if (bytes[i] == '\r' || bytes[i] == '\n') {  // the empty line: the head is over
      head_ended_ = true;
      return false;
    }
  }
  scanned_ = bytes.size();
  return false;
}

}  // namespace app
