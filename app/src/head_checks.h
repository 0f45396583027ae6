// What the server does with a request once its head is in and before any body is read: refuse it
// (and close, since its body is unread), answer "100 Continue" first, or go on. Pure, so the rules
// are tested without sockets:
//   - screened headers (header_screening.h) → 400
//   - more than one Host, or none on HTTP/1.1 (RFC 9112 §3.2) → 400
//   - any Transfer-Encoding → 411: request bodies must have a Content-Length, so there is never
//     a chunked body to exhaust memory with (CVE-2025-46728 / CVE-2025-53629 class) or to
//     disagree about with a front proxy
//   - Content-Length over APP_MAX_BODY → 413 (Beast checks it too)
//   - Expect: 100-continue with a body → "100 Continue" and read; any other expectation → 417
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "request.h"

namespace app {

struct HeadVerdict {
  int status = 0;  // 0: go on; otherwise refuse with this status
  std::string code;
  std::string message;
  bool send_continue = false;  // write "HTTP/1.1 100 Continue" before reading the body

  bool refused() const { return status != 0; }
};

HeadVerdict check_head(const Request& req, bool saw_transfer_encoding,
                       std::optional<std::uint64_t> content_length, std::size_t max_body_bytes);

}  // namespace app
