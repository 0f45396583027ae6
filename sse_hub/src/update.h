// A Mercure update: what a publisher sent, validated, and its server-sent event encoded once
// (as one HTTP/1.1 chunk) so that every subscriber it goes to shares the same bytes.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "url_form.h"

namespace hub {

struct Update {
  std::vector<std::string> topics;  // the first is the canonical topic
  std::string id;
  std::string type;
  // What the publisher sent. The UpdateBus releases it once the frame is encoded: from then on
  // the frame is the only copy the hub keeps (in the history and in subscriber queues).
  std::string data;
  bool is_private = false;
  std::uint64_t retry = 0;  // milliseconds; 0 = not sent

  // Set by the hub when the update is accepted.
  std::uint64_t sequence = 0;
  std::chrono::steady_clock::time_point accepted_at{};
  std::shared_ptr<const std::string> frame;  // the encoded event, one chunk
};
using UpdatePtr = std::shared_ptr<const Update>;

// The event stream text of one update: optional event/retry lines, id, data lines (a multi-line
// data becomes several data: lines; CR, LF and CRLF all end a line), and the blank line.
std::string encode_event(const Update& update);
// One HTTP/1.1 chunk carrying `payload` (hex size, CRLF, payload, CRLF).
std::string http_chunk(std::string_view payload);
// Encodes update.frame from its fields.
void encode_frame(Update& update);

// "urn:uuid:" and a random (version 4) UUID.
std::string new_urn_uuid();

// Why a publish form was refused: the status the reference hub answers and its message.
struct PublishError {
  int status;
  std::string message;
};

// Builds an update from a publish form with the checks the reference hub makes before it looks
// at the publisher's mercure.publish claim: at least one topic (and at most max_topics) and a
// numeric retry. An empty id becomes a urn:uuid.
struct PublishForm {
  std::optional<Update> update;
  std::optional<PublishError> error;
};
PublishForm read_publish_form(const FormFields& form, std::size_t max_topics);

// The checks the reference hub makes once the publisher may publish to the topics: no reserved
// "/.well-known/mercure" topic (403), topics that are protocol strings (valid UTF-8 without
// control characters), no CR, LF or NUL in id or type (400).
std::optional<PublishError> validate_update(const Update& update);

}  // namespace hub
