#include "shared/http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>

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
  bool in_final_headers = false;
  bool headers_reported = false;
  bool aborted_by_caller = false;
};

std::string trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

size_t on_header(char* data, size_t size, size_t count, void* user) {
  auto* ex = static_cast<Exchange*>(user);
  const size_t n = size * count;
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
}

size_t on_write(char* data, size_t size, size_t count, void* user) {
  auto* ex = static_cast<Exchange*>(user);
  const size_t n = size * count;
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
  CURL* curl = static_cast<CURL*>(acquire());
  if (curl == nullptr) throw TransportError(TransportError::Kind::kOther, "curl_easy_init failed");
  // Reset options but keep the handle's connection cache.
  curl_easy_reset(curl);
  ClientResponse response;
  Exchange ex{&request, &response};
  curl_slist* headers = nullptr;
  for (const auto& [k, v] : request.headers)
    headers = curl_slist_append(headers, (k + ": " + v).c_str());
  // libcurl adds these unless told not to; we send exactly what was asked.
  headers = curl_slist_append(headers, "Expect:");
  bool has_accept = false;
  for (const auto& [k, v] : request.headers) {
    std::string lower = k;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    if (lower == "accept") has_accept = true;
  }
  if (!has_accept) headers = curl_slist_append(headers, "Accept:");

  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  if (request.method == "HEAD") curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  if (!request.body.empty() || request.method == "POST" || request.method == "PUT" ||
      request.method == "PATCH") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(request.body.size()));
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &ex);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_write);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &ex);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(request.connect_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
  if (request.stall_timeout.count() > 0) {
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(
        curl, CURLOPT_LOW_SPEED_TIME,
        std::max<long>(1, static_cast<long>((request.stall_timeout.count() + 999) / 1000)));
  }
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!options_.ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, options_.ca_file.c_str());
  curl_easy_setopt(curl, CURLOPT_USERAGENT, options_.user_agent.c_str());
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);

  const CURLcode rc = curl_easy_perform(curl);
  curl_slist_free_all(headers);
  if (rc == CURLE_OK && !ex.headers_reported) {
    ex.headers_reported = true;
    if (request.on_headers) request.on_headers(response.status, response.headers);
  }
  if (rc != CURLE_OK) {
    // A failed handle may hold a broken connection; do not reuse it.
    curl_easy_cleanup(curl);
    const std::string what = std::string(curl_easy_strerror(rc)) + " (" + request.method + " " +
                             request.url.substr(0, request.url.find('?')) + ")";
    if (ex.aborted_by_caller)
      throw TransportError(TransportError::Kind::kAborted, "aborted: " + what);
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
  release(curl);
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
