#include "shared/aws/event_stream.h"

#include <array>
#include <nlohmann/json.hpp>

namespace shared::aws {
namespace {

constexpr std::size_t kPreludeBytes = 12;  // total length, headers length, prelude CRC
constexpr std::size_t kMinMessageBytes = kPreludeBytes + 4;

std::array<std::uint32_t, 256> make_crc_table() {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    table[i] = c;
  }
  return table;
}

std::uint32_t read_u32(std::string_view s, std::size_t at) {
  return (static_cast<std::uint32_t>(static_cast<unsigned char>(s[at])) << 24) |
         (static_cast<std::uint32_t>(static_cast<unsigned char>(s[at + 1])) << 16) |
         (static_cast<std::uint32_t>(static_cast<unsigned char>(s[at + 2])) << 8) |
         static_cast<std::uint32_t>(static_cast<unsigned char>(s[at + 3]));
}

std::uint64_t read_be(std::string_view s, std::size_t at, int bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<unsigned char>(s[at + i]);
  return v;
}

void write_be(std::string& out, std::uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out += static_cast<char>((v >> (8 * i)) & 0xFF);
}

}  // namespace

std::uint32_t crc32(std::string_view data, std::uint32_t seed) {
  static const auto table = make_crc_table();
  std::uint32_t c = seed ^ 0xFFFFFFFFu;
  for (unsigned char b : data) c = table[(c ^ b) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

EventStreamHeader EventStreamHeader::string(std::string name, std::string value) {
  EventStreamHeader h;
  h.name = std::move(name);
  h.type = HeaderType::kString;
  h.bytes_value = std::move(value);
  return h;
}

std::optional<std::string> EventStreamMessage::header(std::string_view name) const {
  for (const auto& h : headers)
    if (h.name == name && (h.type == HeaderType::kString || h.type == HeaderType::kBytes))
      return h.bytes_value;
  return std::nullopt;
}

std::string encode_event_stream_message(const EventStreamMessage& message) {
  std::string headers;
  for (const auto& h : message.headers) {
    headers += static_cast<char>(h.name.size());
    headers += h.name;
    headers += static_cast<char>(h.type);
    switch (h.type) {
      case HeaderType::kBoolTrue:
      case HeaderType::kBoolFalse:
        break;
      case HeaderType::kByte:
        write_be(headers, static_cast<std::uint64_t>(h.int_value), 1);
        break;
      case HeaderType::kInt16:
        write_be(headers, static_cast<std::uint64_t>(h.int_value), 2);
        break;
      case HeaderType::kInt32:
        write_be(headers, static_cast<std::uint64_t>(h.int_value), 4);
        break;
      case HeaderType::kInt64:
      case HeaderType::kTimestamp:
        write_be(headers, static_cast<std::uint64_t>(h.int_value), 8);
        break;
      case HeaderType::kBytes:
      case HeaderType::kString:
        write_be(headers, h.bytes_value.size(), 2);
        headers += h.bytes_value;
        break;
      case HeaderType::kUuid:
        headers += h.bytes_value.substr(0, 16);
        break;
    }
  }
  const std::uint32_t total =
      static_cast<std::uint32_t>(kPreludeBytes + headers.size() + message.payload.size() + 4);
  std::string out;
  out.reserve(total);
  write_be(out, total, 4);
  write_be(out, headers.size(), 4);
  write_be(out, crc32(out), 4);
  out += headers;
  out += message.payload;
  write_be(out, crc32(out), 4);
  return out;
}

EventStreamDecoder::Result EventStreamDecoder::feed(std::string_view bytes) {
  Result result;
  if (failed_) {
    result.error = failed_;
    result.error_kind = failed_kind_;
    return result;
  }
  buffer_.append(bytes.data(), bytes.size());
  while (buffer_.size() - offset_ >= kPreludeBytes) {
    std::string_view rest(buffer_.data() + offset_, buffer_.size() - offset_);
    const std::uint32_t total = read_u32(rest, 0);
    const std::uint32_t headers_length = read_u32(rest, 4);
    if (crc32(rest.substr(0, 8)) != read_u32(rest, 8)) {
      failed_ = "event stream: prelude CRC mismatch";
      failed_kind_ = EventStreamErrorKind::kPreludeCrc;
      break;
    }
    if (total < kMinMessageBytes || total > limits_.max_message_bytes) {
      failed_ = "event stream: message length " + std::to_string(total) + " out of bounds";
      failed_kind_ = EventStreamErrorKind::kLength;
      break;
    }
    if (headers_length > limits_.max_headers_bytes || headers_length > total - kMinMessageBytes) {
      failed_ = "event stream: headers length " + std::to_string(headers_length) + " out of bounds";
      failed_kind_ = EventStreamErrorKind::kLength;
      break;
    }
    if (rest.size() < total) break;  // wait for the rest of the message
    EventStreamMessage message;
    if (auto err = decode_one(rest.substr(0, total), message, failed_kind_)) {
      failed_ = err;
      break;
    }
    result.messages.push_back(std::move(message));
    offset_ += total;
  }
  // Drop consumed bytes once they dominate the buffer, so memory stays bounded by one message.
  if (offset_ > 0 && offset_ * 2 >= buffer_.size()) {
    buffer_.erase(0, offset_);
    offset_ = 0;
  }
  result.error = failed_;
  result.error_kind = failed_kind_;
  return result;
}

std::optional<std::string> EventStreamDecoder::decode_one(std::string_view frame,
                                                          EventStreamMessage& out,
                                                          EventStreamErrorKind& kind) const {
  const std::size_t total = frame.size();
  if (crc32(frame.substr(0, total - 4)) != read_u32(frame, total - 4)) {
    kind = EventStreamErrorKind::kMessageCrc;
    return "event stream: message CRC mismatch";
  }
  // Past the CRCs, what can still be wrong is the header block itself.
  kind = EventStreamErrorKind::kHeaders;
  const std::size_t headers_length = read_u32(frame, 4);
  std::string_view headers = frame.substr(kPreludeBytes, headers_length);
  std::size_t i = 0;
  auto need = [&](std::size_t n) { return i + n <= headers.size(); };
  while (i < headers.size()) {
    EventStreamHeader h;
    const std::size_t name_length = static_cast<unsigned char>(headers[i++]);
    if (name_length == 0 || !need(name_length + 1)) return "event stream: malformed header name";
    h.name = std::string(headers.substr(i, name_length));
    i += name_length;
    const auto type = static_cast<unsigned char>(headers[i++]);
    switch (type) {
      case 0:
        h.type = HeaderType::kBoolTrue;
        break;
      case 1:
        h.type = HeaderType::kBoolFalse;
        break;
      case 2:
      case 3:
      case 4:
      case 5:
      case 8: {
        const int bytes = type == 2 ? 1 : type == 3 ? 2 : type == 4 ? 4 : 8;
        if (!need(bytes)) return "event stream: truncated header " + h.name;
        const std::uint64_t raw = read_be(headers, i, bytes);
        // Sign-extend the big-endian two's complement value.
        const int shift = 64 - 8 * bytes;
        h.int_value = shift == 0 ? static_cast<std::int64_t>(raw)
                                 : static_cast<std::int64_t>(raw << shift) >> shift;
        h.type = static_cast<HeaderType>(type);
        i += bytes;
        break;
      }
      case 6:
      case 7: {
        if (!need(2)) return "event stream: truncated header " + h.name;
        const std::size_t length = read_be(headers, i, 2);
        i += 2;
        if (!need(length)) return "event stream: truncated header " + h.name;
        h.bytes_value = std::string(headers.substr(i, length));
        h.type = static_cast<HeaderType>(type);
        i += length;
        break;
      }
      case 9:
        if (!need(16)) return "event stream: truncated header " + h.name;
        h.bytes_value = std::string(headers.substr(i, 16));
        h.type = HeaderType::kUuid;
        i += 16;
        break;
      default:
        return "event stream: unknown header type " + std::to_string(type);
    }
    out.headers.push_back(std::move(h));
  }
  out.payload = std::string(
      frame.substr(kPreludeBytes + headers_length, total - kPreludeBytes - headers_length - 4));
  kind = EventStreamErrorKind::kNone;
  return std::nullopt;
}

StreamEvent classify_event_stream_message(const EventStreamMessage& message) {
  StreamEvent e;
  e.payload = message.payload;
  const std::string type = message.header(":message-type").value_or("");
  if (type == "event") {
    e.kind = StreamEvent::Kind::kEvent;
    e.type = message.header(":event-type").value_or("");
  } else if (type == "exception") {
    e.kind = StreamEvent::Kind::kException;
    e.type = message.header(":exception-type").value_or("");
    nlohmann::json j = nlohmann::json::parse(message.payload, nullptr, false);
    if (j.is_object()) {
      for (const char* key : {"message", "Message"})
        if (j.contains(key) && j[key].is_string()) e.message = j[key].get<std::string>();
    } else {
      e.message = message.payload.substr(0, 512);
    }
  } else if (type == "error") {
    e.kind = StreamEvent::Kind::kError;
    e.type = message.header(":error-code").value_or("");
    e.message = message.header(":error-message").value_or("");
  }
  return e;
}

}  // namespace shared::aws
