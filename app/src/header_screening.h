// Screening of request headers before the app trusts any of them. Beast already refuses header
// names that are not tokens and control characters in values; this adds the app's own rule:
// REMOTE_ADDR / REMOTE_PORT / LOCAL_ADDR / LOCAL_PORT (in any letter case) are names that
// servers such as cpp-httplib fill in themselves and that a client's copy can shadow
// (CVE-2025-66570), so a request carrying one is refused whole rather than passed on to any
// layer that might believe it. The peer address the app uses comes from the socket only.
#pragma once

#include <string>

#include "request.h"

namespace app {

// Empty when the headers are acceptable, otherwise why not (for a 400 message).
std::string header_problem(const Request& req);

// True when name is an RFC 9110 token (what a header name must be).
bool is_header_token(const std::string& name);

}  // namespace app
