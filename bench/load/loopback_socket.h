// Non-blocking TCP sockets for the load generator: each connection is bound to a chosen
// 127.0.0.x source address before connecting, because one source address runs out of
// ephemeral ports near 28k connections to the same server port.
#pragma once

#include <cstdint>
#include <string>

namespace bench {

// 127.0.0.`last_octet` in network byte order.
uint32_t loopback_address(int last_octet);

// Starts a non-blocking connect from `source` (any port) to `destination`:`port`. Returns the
// socket or -errno. `receive_buffer` > 0 shrinks SO_RCVBUF first (slow consumers).
int start_connect(uint32_t source, uint32_t destination, int port, int receive_buffer = 0);

// The pending error of a connect once the socket is writable: 0 when connected.
int connect_result(int fd);

// Parses "a.b.c.d" into network byte order; 0 when it is not an IPv4 address.
uint32_t parse_ipv4(const std::string& text);

int64_t monotonic_ns();

}  // namespace bench
