// An HTTP client on libcurl: connect and total timeouts, a stall timeout for streams, a
// streaming body callback, connection reuse across calls, TLS verification always on, and
// direct connections only (the proxy environment variables libcurl would read are ignored).
// Thread-safe: concurrent send() calls each borrow their own handle from a small pool.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace shared::http {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct ClientRequest {
  std::string method = "GET";
  std::string url;
  HeaderList headers;
  std::string body;
  std::chrono::milliseconds connect_timeout{5'000};
  std::chrono::milliseconds timeout{30'000};   // whole exchange; 0 = none (streams)
  std::chrono::milliseconds stall_timeout{0};  // abort if no byte arrives for this long; 0 = none
  // Called for each piece of the body as it arrives; return false to abort. When set, the
  // response's body stays empty. Called only for the final response (not 1xx). An exception it
  // throws aborts the transfer and comes out of send() as it was thrown (so does one from
  // on_headers).
  std::function<bool(std::string_view)> on_body;
  // Called once the status line and headers are in, before the body.
  std::function<void(long status, const HeaderList& headers)> on_headers;
};

struct ClientResponse {
  long status = 0;
  HeaderList headers;  // names lower-cased, in arrival order
  std::string body;
  std::optional<std::string> header(std::string_view name) const;
};

class TransportError : public std::runtime_error {
 public:
  enum class Kind { kConnect, kTimeout, kAborted, kTls, kOther };
  TransportError(Kind kind, const std::string& message)
      : std::runtime_error(message), kind_(kind) {}
  Kind kind() const { return kind_; }

 private:
  Kind kind_;
};

struct ClientOptions {
  std::string ca_file;  // extra CA bundle (tests); empty = the system store
  std::size_t max_idle_handles = 16;
  std::string user_agent = "agent-suite/0.1";
};

class HttpClient {
 public:
  explicit HttpClient(ClientOptions options = {});
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Throws TransportError when no HTTP response could be had; any status is a response.
  ClientResponse send(const ClientRequest& request);

  // Handles created so far (connection reuse is visible in tests as this staying small).
  std::size_t handles_created() const;

 private:
  void* acquire();
  void release(void* handle);

  ClientOptions options_;
  mutable std::mutex mutex_;
  std::vector<void*> idle_;
  std::size_t created_ = 0;
};

// Percent-encodes for a URL query or path segment (RFC 3986 unreserved characters kept).
std::string url_encode(std::string_view s);
std::string url_decode(std::string_view s);

}  // namespace shared::http
