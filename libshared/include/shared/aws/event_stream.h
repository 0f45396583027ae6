// The application/vnd.amazon.eventstream framing (Bedrock ConverseStream, Transcribe, ...):
// a streaming decoder that takes bytes in any chunking, checks the prelude and message CRC32s,
// reads every header type and bounds sizes; an encoder (for the fakes and tests); and the
// mapping of :message-type event / exception / error to typed results.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace shared::aws {

enum class HeaderType : std::uint8_t {
  kBoolTrue = 0,
  kBoolFalse = 1,
  kByte = 2,
  kInt16 = 3,
  kInt32 = 4,
  kInt64 = 5,
  kBytes = 6,
  kString = 7,
  kTimestamp = 8,  // milliseconds since the epoch
  kUuid = 9,       // 16 bytes
};

struct EventStreamHeader {
  std::string name;
  HeaderType type = HeaderType::kString;
  std::int64_t int_value = 0;  // kByte, kInt16, kInt32, kInt64, kTimestamp
  std::string bytes_value;     // kBytes, kString, kUuid

  bool bool_value() const { return type == HeaderType::kBoolTrue; }
  static EventStreamHeader string(std::string name, std::string value);
};

struct EventStreamMessage {
  std::vector<EventStreamHeader> headers;
  std::string payload;

  // The value of a string header, or nullopt.
  std::optional<std::string> header(std::string_view name) const;
};

struct EventStreamLimits {
  std::size_t max_message_bytes = 16 * 1024 * 1024;  // as the AWS services bound a message
  std::size_t max_headers_bytes = 128 * 1024;
};

std::uint32_t crc32(std::string_view data, std::uint32_t seed = 0);

// Serialises a message (headers in the given order).
std::string encode_event_stream_message(const EventStreamMessage& message);

// Why a stream was refused: the prelude's CRC (it covers both lengths, so a corrupted length
// shows here), the message CRC (headers or payload changed), a length out of bounds (with a valid
// prelude CRC: the sender's framing is wrong or too big), or a malformed header block inside a
// valid CRC.
enum class EventStreamErrorKind { kNone, kPreludeCrc, kMessageCrc, kLength, kHeaders };

class EventStreamDecoder {
 public:
  explicit EventStreamDecoder(EventStreamLimits limits = {}) : limits_(limits) {}

  struct Result {
    std::vector<EventStreamMessage> messages;  // complete messages found in this feed
    std::optional<std::string> error;          // the stream is corrupt; the decoder stays failed
    EventStreamErrorKind error_kind = EventStreamErrorKind::kNone;
  };

  // Appends bytes and returns every message they complete. Never throws on bad input.
  Result feed(std::string_view bytes);
  // Bytes held for an incomplete message (non-zero at end of stream means truncation).
  std::size_t buffered() const { return buffer_.size() - offset_; }
  bool failed() const { return failed_.has_value(); }

 private:
  std::optional<std::string> decode_one(std::string_view frame, EventStreamMessage& out,
                                        EventStreamErrorKind& kind) const;

  EventStreamLimits limits_;
  std::string buffer_;
  std::size_t offset_ = 0;
  std::optional<std::string> failed_;
  EventStreamErrorKind failed_kind_ = EventStreamErrorKind::kNone;
};

// What a decoded message means to a client of an AWS event-stream API.
struct StreamEvent {
  enum class Kind { kEvent, kException, kError, kUnknown };
  Kind kind = Kind::kUnknown;
  std::string type;     // kEvent: :event-type; kException: :exception-type; kError: :error-code
  std::string message;  // kException: the payload's message; kError: :error-message
  std::string payload;  // the raw payload (JSON for Bedrock)
};
StreamEvent classify_event_stream_message(const EventStreamMessage& message);

}  // namespace shared::aws
