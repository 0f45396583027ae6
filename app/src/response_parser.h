// Reads an upstream's HTTP/1.1 response with Boost.Beast's parser: the status and headers (names
// lower-cased; head size and field count bounded), then the body decoded from whatever framing the
// upstream used (length, chunked, or to the end of the connection) straight into a RelayFlow, and
// only as much as it has room for. When the flow is full the parser stops with
// http::error::need_buffer and resumes where it left off once the client has caught up.
#pragma once

#include <boost/beast/http/basic_parser.hpp>
#include <string>
#include <utility>
#include <vector>

#include "relay_flow.h"

namespace app {

class ResponseParser : public boost::beast::http::basic_parser<false> {
 public:
  static constexpr std::uint32_t kMaxHeadBytes = 64 * 1024;
  static constexpr std::size_t kMaxFields = 256;

  ResponseParser();
  void sink(RelayFlow* flow) { flow_ = flow; }

  int status() const { return status_; }
  const std::vector<std::pair<std::string, std::string>>& headers() const { return headers_; }

 private:
  void on_request_impl(boost::beast::http::verb, boost::beast::string_view,
                       boost::beast::string_view, int, boost::system::error_code& ec) override;
  void on_response_impl(int code, boost::beast::string_view, int,
                        boost::system::error_code& ec) override;
  void on_field_impl(boost::beast::http::field, boost::beast::string_view name,
                     boost::beast::string_view value, boost::system::error_code& ec) override;
  void on_header_impl(boost::system::error_code& ec) override { ec = {}; }
  void on_body_init_impl(const boost::optional<std::uint64_t>&,
                         boost::system::error_code& ec) override {
    ec = {};
  }
  std::size_t on_body_impl(boost::beast::string_view body, boost::system::error_code& ec) override;
  void on_chunk_header_impl(std::uint64_t, boost::beast::string_view,
                            boost::system::error_code& ec) override {
    ec = {};
  }
  std::size_t on_chunk_body_impl(std::uint64_t, boost::beast::string_view body,
                                 boost::system::error_code& ec) override;
  void on_finish_impl(boost::system::error_code& ec) override { ec = {}; }
  std::size_t take(boost::beast::string_view body, boost::system::error_code& ec);

  RelayFlow* flow_ = nullptr;
  int status_ = 0;
  std::vector<std::pair<std::string, std::string>> headers_;
};

}  // namespace app
