// How each measured server is subscribed to and published to, as raw HTTP/1.1 request text:
// our Mercure hub (form POST with a publisher JWT, SSE subscribe with an optional subscriber
// JWT), nginx+nchan (POST /pub?topic=, EventSource GET /sub?topic=) and pushpin (GRIP publish
// JSON on its HTTP publish port, SSE GET through its proxy port to a backend that holds the
// stream on channel = topic).
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace bench {

struct ProtocolOptions {
  std::string host = "127.0.0.1";
  int subscribe_port = 0;
  int publish_port = 0;
  // Mercure only: HS256 secrets; an empty subscriber key means anonymous subscribers.
  std::string publisher_key;
  std::string subscriber_key;
  // Mercure only: publish private updates (subscribers then need a JWT naming their topic).
  bool private_updates = false;
};

class PubSubProtocol {
 public:
  virtual ~PubSubProtocol() = default;
  // The GET that opens an event stream on `topic`; `last_event_id` empty = from now.
  virtual std::string subscribe_request(const std::string& topic,
                                        const std::string& last_event_id) const = 0;
  // A keep-alive POST that publishes `data` (one line, no newlines) to `topic`.
  virtual std::string publish_request(const std::string& topic, std::string_view data) const = 0;
  // Whether the server keeps history so a subscriber can resume with Last-Event-ID.
  virtual bool resumes_from_last_event_id() const = 0;
};

// "hub", "nchan" or "pushpin"; nullptr for anything else.
std::unique_ptr<PubSubProtocol> make_protocol(std::string_view name,
                                              const ProtocolOptions& options);

// Percent-encodes everything but unreserved characters (RFC 3986 §2.3).
std::string percent_encode(std::string_view text);

}  // namespace bench
