// What is recorded once per request when its answer is over (or the client left first, as 499):
// the request metrics with the labels every service uses (http_requests_total{service, method,
// status}, http_request_duration_seconds{service}) and one JSON access-log line carrying the
// request id (none for /healthz, /readyz and /metrics, which the ALB and Prometheus call all day).
#pragma once

#include <string>

#include "request.h"
#include "shared/metrics.h"

namespace app {

void record_request(shared::MetricsRegistry& metrics, const std::string& service,
                    const Request& request, int status);

// The method label: the usual methods by name, anything else "OTHER" (as libshared labels it),
// so that clients cannot grow the label set.
std::string method_label(const std::string& method);

}  // namespace app
