#include "pubsub_protocol.h"

#include <nlohmann/json.hpp>

#include "hs256_token.h"

namespace bench {
namespace {

std::string host_header(const ProtocolOptions& options, int port) {
  return "Host: " + options.host + ":" + std::to_string(port) + "\r\n";
}

std::string last_event_id_header(const std::string& last_event_id) {
  return last_event_id.empty() ? std::string{} : "Last-Event-ID: " + last_event_id + "\r\n";
}

class MercureProtocol final : public PubSubProtocol {
 public:
  explicit MercureProtocol(ProtocolOptions options)
      : options_(std::move(options)), publisher_token_(publisher_token(options_.publisher_key)) {}

  std::string subscribe_request(const std::string& topic,
                                const std::string& last_event_id) const override {
    std::string request = "GET /.well-known/mercure?topic=" + percent_encode(topic) +
                          " HTTP/1.1\r\n" + host_header(options_, options_.subscribe_port) +
                          "Accept: text/event-stream\r\n" + last_event_id_header(last_event_id);
    if (!options_.subscriber_key.empty()) {
      request +=
          "Authorization: Bearer " + subscriber_token(options_.subscriber_key, topic) + "\r\n";
    }
    return request + "\r\n";
  }

  std::string publish_request(const std::string& topic, std::string_view data) const override {
    std::string body = "topic=" + percent_encode(topic) + "&data=" + percent_encode(data);
    if (options_.private_updates) body += "&private=on";
    return "POST /.well-known/mercure HTTP/1.1\r\n" + host_header(options_, options_.publish_port) +
           "Authorization: Bearer " + publisher_token_ +
           "\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\n\r\n" + body;
  }

  bool resumes_from_last_event_id() const override { return true; }

 private:
  ProtocolOptions options_;
  std::string publisher_token_;
};

class NchanProtocol final : public PubSubProtocol {
 public:
  explicit NchanProtocol(ProtocolOptions options) : options_(std::move(options)) {}

  std::string subscribe_request(const std::string& topic,
                                const std::string& last_event_id) const override {
    return "GET /sub?topic=" + percent_encode(topic) + " HTTP/1.1\r\n" +
           host_header(options_, options_.subscribe_port) + "Accept: text/event-stream\r\n" +
           last_event_id_header(last_event_id) + "\r\n";
  }

  std::string publish_request(const std::string& topic, std::string_view data) const override {
    return "POST /pub?topic=" + percent_encode(topic) + " HTTP/1.1\r\n" +
           host_header(options_, options_.publish_port) +
           "Content-Type: text/plain\r\nContent-Length: " + std::to_string(data.size()) +
           "\r\n\r\n" + std::string(data);
  }

  bool resumes_from_last_event_id() const override { return true; }

 private:
  ProtocolOptions options_;
};

class PushpinProtocol final : public PubSubProtocol {
 public:
  explicit PushpinProtocol(ProtocolOptions options) : options_(std::move(options)) {}

  std::string subscribe_request(const std::string& topic,
                                const std::string& last_event_id) const override {
    return "GET /stream?topic=" + percent_encode(topic) + " HTTP/1.1\r\n" +
           host_header(options_, options_.subscribe_port) + "Accept: text/event-stream\r\n" +
           last_event_id_header(last_event_id) + "\r\n";
  }

  std::string publish_request(const std::string& topic, std::string_view data) const override {
    // The GRIP backend names the channel after the raw (still percent-encoded) query value,
    // as nginx's $arg_topic gives it.
    const nlohmann::json item = {
        {"channel", percent_encode(topic)},
        {"formats", {{"http-stream", {{"content", "data: " + std::string(data) + "\n\n"}}}}}};
    const std::string body = nlohmann::json{{"items", {item}}}.dump();
    return "POST /publish/ HTTP/1.1\r\n" + host_header(options_, options_.publish_port) +
           "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
           "\r\n\r\n" + body;
  }

  // Pushpin relays; history and resumption are the backend's job.
  bool resumes_from_last_event_id() const override { return false; }

 private:
  ProtocolOptions options_;
};

}  // namespace

std::string percent_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~') {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::unique_ptr<PubSubProtocol> make_protocol(std::string_view name,
                                              const ProtocolOptions& options) {
  if (name == "hub") return std::make_unique<MercureProtocol>(options);
  if (name == "nchan") return std::make_unique<NchanProtocol>(options);
  if (name == "pushpin") return std::make_unique<PushpinProtocol>(options);
  return nullptr;
}

}  // namespace bench
