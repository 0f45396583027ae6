#include "head_checks.h"

#include "header_screening.h"

namespace app {
namespace {

HeadVerdict refuse(int status, std::string code, std::string message) {
  HeadVerdict v;
  v.status = status;
  v.code = std::move(code);
  v.message = std::move(message);
  return v;
}

}  // namespace

HeadVerdict check_head(const Request& req, bool saw_transfer_encoding,
                       std::optional<std::uint64_t> content_length, std::size_t max_body_bytes) {
  if (const auto problem = header_problem(req); !problem.empty())
    return refuse(400, "bad_request", problem);
  const std::size_t hosts = req.header_count("Host");
  if (hosts > 1 || (hosts == 0 && req.version >= 11))
    return refuse(400, "bad_request", "exactly one Host header is required");
  if (saw_transfer_encoding)
    return refuse(411, "length_required",
                  "chunked request bodies are not accepted; send Content-Length");
  if (content_length && *content_length > max_body_bytes)
    return refuse(413, "payload_too_large",
                  "the body exceeds the limit of " + std::to_string(max_body_bytes) + " bytes");
  HeadVerdict go;
  if (const std::string* expect = req.headers.find("Expect")) {
    if (req.header_count("Expect") > 1 || !iequals(*expect, "100-continue"))
      return refuse(417, "expectation_failed", "only Expect: 100-continue is supported");
    go.send_continue = content_length.value_or(0) > 0;
  }
  return go;
}

}  // namespace app
