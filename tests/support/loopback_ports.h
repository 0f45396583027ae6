// Loopback ports for C++ tests: one bound by the kernel's choice, a free one, and whether one
// accepts connections. Header-only; test targets include it by relative path.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>

namespace test_support {

// A TCP socket bound to 127.0.0.1 on a port the kernel picked, never listening: while it lives,
// nobody else gets the port and connecting to it is refused at once.
class BoundLoopbackPort {
 public:
  BoundLoopbackPort() : fd_(socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address);
    socklen_t length = sizeof address;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
  }
  ~BoundLoopbackPort() { close(fd_); }
  BoundLoopbackPort(const BoundLoopbackPort&) = delete;
  BoundLoopbackPort& operator=(const BoundLoopbackPort&) = delete;
  int port() const { return port_; }

 private:
  int fd_;
  int port_ = 0;
};

// A port that was free a moment ago, for a server about to be started on it.
inline int free_port() { return BoundLoopbackPort().port(); }

// Whether something accepts connections on 127.0.0.1:port.
inline bool port_open(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  close(fd);
  return ok;
}

}  // namespace test_support
