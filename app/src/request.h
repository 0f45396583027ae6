// One HTTP request as the app's handlers see it: method, target, headers in arrival order (looked
// up without regard to letter case), the body (already read whole, within APP_MAX_BODY), and who
// sent it. Filled by RequestParser; plain data, so the parts can be tested without sockets.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace app {

// True when a and b are equal ignoring ASCII letter case.
bool iequals(std::string_view a, std::string_view b);

class HeaderFields {
 public:
  using Field = std::pair<std::string, std::string>;  // name as sent, value

  void add(std::string name, std::string value) {
    fields_.emplace_back(std::move(name), std::move(value));
  }
  // How many fields carry this name.
  std::size_t count(std::string_view name) const;
  // The first value of the name, or nullptr.
  const std::string* find(std::string_view name) const;
  // The first value of the name, or "".
  std::string value(std::string_view name) const;
  bool contains(std::string_view name) const { return find(name) != nullptr; }

  std::size_t size() const { return fields_.size(); }
  std::vector<Field>::const_iterator begin() const { return fields_.begin(); }
  std::vector<Field>::const_iterator end() const { return fields_.end(); }

 private:
  std::vector<Field> fields_;
};

struct Request {
  std::string method;  // as sent ("GET")
  std::string target;  // as sent ("/api/sessions?limit=5")
  std::string path;    // target up to '?'
  int version = 11;    // 10 or 11
  HeaderFields headers;
  std::string body;
  std::string remote_addr;  // the peer's address: the only source of X-Forwarded-For
  int remote_port = 0;
  std::string request_id;  // the client's X-Request-Id when plausible, else a new one
  std::chrono::steady_clock::time_point started{};

  std::size_t header_count(std::string_view name) const { return headers.count(name); }
  std::string header(std::string_view name) const { return headers.value(name); }
  bool has_header(std::string_view name) const { return headers.contains(name); }
};

}  // namespace app
