// Headers every response of the app carries, refusals made before routing included: a
// Content-Security-Policy with no inline script or style, no framing, nosniff, a strict referrer
// policy, and HSTS when the app is reached over HTTPS (APP_HSTS, or the ALB's
// X-Forwarded-Proto: https).
#pragma once

#include "request.h"
#include "response.h"

namespace app {

// request is null when the request could not be read.
void add_security_headers(const Request* request, Response& response, bool always_hsts);

}  // namespace app
