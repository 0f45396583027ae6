#include "update.h"

#include <charconv>
#include <cstdio>
#include <random>

#include "protocol_string.h"

namespace hub {
namespace {

constexpr std::string_view kReservedTopic = "/.well-known/mercure";

// A plain loop: find_first_of with a set calls memchr once per character.
bool has_line_break_or_nul(const std::string& s) {
  for (const char c : s) {
    if (c == '\r' || c == '\n' || c == '\0') return true;
  }
  return false;
}

}  // namespace

std::string encode_event(const Update& update) {
  std::string out;
  out.reserve(update.data.size() + update.id.size() + update.type.size() + 48);
  if (!update.type.empty()) out += "event: " + update.type + "\n";
  if (update.retry != 0) out += "retry: " + std::to_string(update.retry) + "\n";
  out += "id: " + update.id + "\n";
  out += "data: ";
  const std::string& d = update.data;
  for (std::size_t i = 0; i < d.size(); ++i) {
    if (d[i] == '\r') {
      if (i + 1 < d.size() && d[i + 1] == '\n') ++i;
      out += "\ndata: ";
    } else if (d[i] == '\n') {
      out += "\ndata: ";
    } else {
      out += d[i];
    }
  }
  out += "\n\n";
  return out;
}

std::string http_chunk(std::string_view payload) {
  char size[24];
  const int n = std::snprintf(size, sizeof size, "%zx\r\n", payload.size());
  std::string out;
  out.reserve(static_cast<std::size_t>(n) + payload.size() + 2);
  out.append(size, static_cast<std::size_t>(n));
  out.append(payload);
  out += "\r\n";
  return out;
}

void encode_frame(Update& update) {
  update.frame = std::make_shared<const std::string>(http_chunk(encode_event(update)));
}

std::string new_urn_uuid() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uint64_t hi = rng();
  std::uint64_t lo = rng();
  hi = (hi & 0xFFFFFFFFFFFF0FFFull) | 0x0000000000004000ull;  // version 4
  lo = (lo & 0x3FFFFFFFFFFFFFFFull) | 0x8000000000000000ull;  // RFC 4122 variant
  char buf[64];
  std::snprintf(buf, sizeof buf, "urn:uuid:%08x-%04x-%04x-%04x-%012llx",
                static_cast<unsigned>(hi >> 32), static_cast<unsigned>((hi >> 16) & 0xFFFF),
                static_cast<unsigned>(hi & 0xFFFF), static_cast<unsigned>(lo >> 48),
                static_cast<unsigned long long>(lo & 0xFFFFFFFFFFFFull));
  return buf;
}

PublishForm read_publish_form(const FormFields& form, std::size_t max_topics) {
  PublishForm result;
  Update u;
  u.topics = form_values(form, "topic");
  if (u.topics.empty()) {
    result.error = PublishError{400, "Missing \"topic\" parameter"};
    return result;
  }
  if (u.topics.size() > max_topics) {
    result.error = PublishError{400, "too many topics in update"};
    return result;
  }
  if (auto retry = form_value(form, "retry"); retry && !retry->empty()) {
    const char* end = retry->data() + retry->size();
    auto [ptr, ec] = std::from_chars(retry->data(), end, u.retry);
    if (ec != std::errc() || ptr != end) {
      result.error = PublishError{400, "Invalid \"retry\" parameter"};
      return result;
    }
  }
  u.id = form_value(form, "id").value_or("");
  u.type = form_value(form, "type").value_or("");
  u.data = form_value(form, "data").value_or("");
  u.is_private = form_value(form, "private").has_value();
  if (u.id.empty()) u.id = new_urn_uuid();
  result.update = std::move(u);
  return result;
}

std::optional<PublishError> validate_update(const Update& update) {
  for (const auto& topic : update.topics) {
    if (topic.find(kReservedTopic) != std::string::npos) {
      return PublishError{403,
                          "topic value references the reserved \"/.well-known/mercure\" namespace"};
    }
    if (!is_protocol_string(topic)) {
      return PublishError{400, "topic contains a forbidden control character or invalid UTF-8"};
    }
  }
  if (has_line_break_or_nul(update.id))
    return PublishError{400, "\"id\" field contains a forbidden control character"};
  if (has_line_break_or_nul(update.type)) {
    return PublishError{400, "\"type\" field contains a forbidden control character"};
  }
  return std::nullopt;
}

}  // namespace hub
