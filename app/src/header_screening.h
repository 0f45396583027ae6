// Screening of request headers before the app trusts any of them. The cpp-httplib in Debian
// (0.11.4) stores its own REMOTE_ADDR/REMOTE_PORT/LOCAL_ADDR/LOCAL_PORT entries in the same map
// as the client's headers, after them, so a client-sent copy shadows the real one
// (CVE-2025-53629 / CVE-2025-66570 class); it percent-decodes header values, so "%0D%0A" becomes a
// real line break inside a value; and it takes an obsolete folded line (" X-User-Id: v") as a
// header whose name starts with a space. A request showing any of these is refused whole.
#pragma once

#include <httplib.h>

#include <string>

namespace app {

// Empty when the headers are acceptable, otherwise why not (for a 400 message).
std::string header_problem(const httplib::Request& req);

// True when name is an RFC 9110 token (what a header name must be).
bool is_header_token(const std::string& name);

}  // namespace app
