// Headers every response of the app carries: a Content-Security-Policy with no inline script or
// style, no framing, nosniff, a strict referrer policy, and HSTS when the app is reached over
// HTTPS (APP_HSTS, or the ALB's X-Forwarded-Proto: https).
#pragma once

#include <httplib.h>

namespace app {

void add_security_headers(const httplib::Request& req, httplib::Response& res, bool always_hsts);

}  // namespace app
