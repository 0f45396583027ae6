#include "shared/http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <exception>
#include <memory>
#include <new>

namespace shared::http {
namespace {

struct CurlGlobal {
  CurlGlobal() { curl_global_init(CURL_GLOBAL_DEFAULT); }
};

void ensure_global_init() {
  static CurlGlobal g;
  (void)g;
}

struct Exchange {
  const ClientRequest* request;
  ClientResponse* response;
  bool headers_reported = false;
  bool aborted_by_caller = false;
  // An exception from a callback must not unwind through libcurl's C frames: it is kept here,
  // the transfer is aborted, and send() rethrows it once curl_easy_perform has returned.
  std::exception_ptr callback_error;
  // Stall detection: when a byte last moved either way.
  std::chrono::steady_clock::time_point last_activity = std::chrono::steady_clock::now();
  curl_off_t last_down = 0;
  curl_off_t last_up = 0;
  bool stalled = false;
};

struct CurlHandleDeleter {
  void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
};
using CurlHandle = std::unique_ptr<CURL, CurlHandleDeleter>;

struct HeaderListDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using CurlHeaders = std::unique_ptr<curl_slist, HeaderListDeleter>;

void append_header(CurlHeaders& list, const std::string& line) {
  curl_slist* grown = curl_slist_append(list.get(), line.c_str());
  if (grown == nullptr) throw std::bad_alloc();
  (void)list.release();
  list.reset(grown);
}

std::string trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

size_t on_header(char* data, size_t size, size_t count, void* user) noexcept {
  auto* ex = static_cast<Exchange*>(user);
  const size_t n = size * count;
  ex->last_activity = std::chrono::steady_clock::now();
  try {
    std::string_view line(data, n);
    if (line.rfind("HTTP/", 0) == 0) {
      // A new status line: a 1xx or a redirect starts over.
      ex->response->headers.clear();
      auto sp = line.find(' ');
      ex->response->status =
          sp == std::string_view::npos ? 0 : std::atol(std::string(line.substr(sp + 1, 3)).c_str());
      return n;
    }
    auto colon = line.find(':');
    if (colon != std::string_view::npos) {
      std::string name(line.substr(0, colon));
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char c) { return std::tolower(c); });
      ex->response->headers.emplace_back(std::move(name), trim(line.substr(colon + 1)));
    }
    return n;
  } catch (...) {
    ex->callback_error = std::current_exception();
    return 0;  // makes curl fail with CURLE_WRITE_ERROR
  }
}

// libcurl's own low-speed check averages over its last five seconds of samples, so a stream
// that stalls after a burst is noticed seconds late; this one measures the silence itself. It
// runs at least about once a second while nothing moves.
int on_progress(void* user, curl_off_t, curl_off_t down, curl_off_t, curl_off_t up) noexcept {
  auto* ex = static_cast<Exchange*>(user);
  const auto now = std::chrono::steady_clock::now();
  if (down != ex->last_down || up != ex->last_up) {
    ex->last_down = down;
    ex->last_up = up;
    ex->last_activity = now;
    return 0;
  }
  if (now - ex->last_activity >= ex->request->stall_timeout) {
    ex->stalled = true;
    return 1;  // makes curl fail with CURLE_ABORTED_BY_CALLBACK
  }
  return 0;
}

size_t on_write(char* data, size_t size, size_t count, void* user) noexcept {
  auto* ex = static_cast<Exchange*>(user);
  const size_t n = size * count;
  ex->last_activity = std::chrono::steady_clock::now();
  try {
    if (!ex->headers_reported) {
      ex->headers_reported = true;
      if (ex->request->on_headers)
        ex->request->on_headers(ex->response->status, ex->response->headers);
    }
    if (ex->request->on_body) {
      if (!ex->request->on_body(std::string_view(data, n))) {
        ex->aborted_by_caller = true;
        return 0;  // makes curl fail with CURLE_WRITE_ERROR
      }
    } else {
      ex->response->body.append(data, n);
    }
    return n;
  } catch (...) {
    ex->callback_error = std::current_exception();
    return 0;
  }
}

}  // namespace

std::optional<std::string> ClientResponse::header(std::string_view name) const {
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  for (const auto& [k, v] : headers)
    if (k == lower) return v;
  return std::nullopt;
}

HttpClient::HttpClient(ClientOptions options) : options_(std::move(options)) {
  ensure_global_init();
}

HttpClient::~HttpClient() {
  for (void* h : idle_) curl_easy_cleanup(static_cast<CURL*>(h));
}

std::size_t HttpClient::handles_created() const {
  std::lock_guard lock(mutex_);
  return created_;
}

void* HttpClient::acquire() {
  std::lock_guard lock(mutex_);
  if (!idle_.empty()) {
    void* h = idle_.back();
    idle_.pop_back();
    return h;
  }
  ++created_;
  return curl_easy_init();
}

void HttpClient::release(void* handle) {
  std::lock_guard lock(mutex_);
  if (idle_.size() < options_.max_idle_handles) {
    idle_.push_back(handle);
  } else {
    curl_easy_cleanup(static_cast<CURL*>(handle));
  }
}

ClientResponse HttpClient::send(const ClientRequest& request) {
  // Owned until it goes back to the pool: any exit but a clean response frees it, since a failed
  // handle may hold a broken connection.
  CurlHandle curl(static_cast<CURL*>(acquire()));
  if (!curl) throw TransportError(TransportError::Kind::kOther, "curl_easy_init failed");
  // Reset options but keep the handle's connection cache.
  curl_easy_reset(curl.get());
  ClientResponse response;
  Exchange ex{&request, &response};
  CurlHeaders headers;
  for (const auto& [k, v] : request.headers) append_header(headers, k + ": " + v);
  // libcurl adds these unless told not to; we send exactly what was asked.
  append_header(headers, "Expect:");
  bool has_accept = false;
  for (const auto& [k, v] : request.headers) {
    std::string lower = k;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    if (lower == "accept") has_accept = true;
  }
  if (!has_accept) append_header(headers, "Accept:");

  CURL* h = curl.get();
  curl_easy_setopt(h, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  if (request.method == "HEAD") curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  if (!request.body.empty() || request.method == "POST" || request.method == "PUT" ||
      request.method == "PATCH") {
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  }
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &ex);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &ex);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(request.connect_timeout.count()));
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
  if (request.stall_timeout.count() > 0) {
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, &ex);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
  }
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!options_.ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, options_.ca_file.c_str());
  curl_easy_setopt(h, CURLOPT_USERAGENT, options_.user_agent.c_str());
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
  // libcurl would otherwise read http_proxy, HTTPS_PROXY, ALL_PROXY and NO_PROXY from the
  // environment: configuration outside the typed config, and a way for the hub publish on
  // localhost to go through a proxy. An empty proxy string turns that off.
  curl_easy_setopt(h, CURLOPT_PROXY, "");

  const CURLcode rc = curl_easy_perform(h);
  if (ex.callback_error) std::rethrow_exception(ex.callback_error);
  if (rc == CURLE_OK && !ex.headers_reported) {
    ex.headers_reported = true;
    if (request.on_headers) request.on_headers(response.status, response.headers);
  }
  if (rc != CURLE_OK) {
    const std::string what = std::string(curl_easy_strerror(rc)) + " (" + request.method + " " +
                             request.url.substr(0, request.url.find('?')) + ")";
    if (ex.aborted_by_caller)
      throw TransportError(TransportError::Kind::kAborted, "aborted: " + what);
    if (ex.stalled)
      throw TransportError(TransportError::Kind::kTimeout,
                           "no data for " + std::to_string(request.stall_timeout.count()) +
                               " ms (" + request.method + " " +
                               request.url.substr(0, request.url.find('?')) + ")");
    switch (rc) {
      case CURLE_COULDNT_CONNECT:
      case CURLE_COULDNT_RESOLVE_HOST:
      case CURLE_COULDNT_RESOLVE_PROXY:
        throw TransportError(TransportError::Kind::kConnect, what);
      case CURLE_OPERATION_TIMEDOUT:
        throw TransportError(TransportError::Kind::kTimeout, what);
      case CURLE_SSL_CONNECT_ERROR:
      case CURLE_PEER_FAILED_VERIFICATION:
      case CURLE_SSL_CERTPROBLEM:
      case CURLE_SSL_CACERT_BADFILE:
        throw TransportError(TransportError::Kind::kTls, what);
      default:
        throw TransportError(TransportError::Kind::kOther, what);
    }
  }
  release(curl.release());
  return response;
}

std::string url_encode(std::string_view s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size() * 3);
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::string url_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else if (s[i] == '+') {
      out += ' ';
    } else {
      out += s[i];
    }
  }
  return out;
}

}  // namespace shared::http
