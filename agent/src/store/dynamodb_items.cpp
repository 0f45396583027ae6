#include "store/dynamodb_items.h"

#include <algorithm>
#include <cstdio>

namespace agent::store::dynamo {

using nlohmann::json;

std::string get_s(const json& item, const char* name) {
  auto it = item.find(name);
  if (it == item.end() || !it->is_object()) return "";
  auto value = it->find("S");
  if (value == it->end() || !value->is_string()) return "";
  return value->get<std::string>();
}

std::int64_t get_n(const json& item, const char* name) {
  auto it = item.find(name);
  if (it == item.end() || !it->is_object()) return 0;
  auto value = it->find("N");
  if (value == it->end() || !value->is_string()) return 0;
  try {
    return std::stoll(value->get<std::string>());
  } catch (const std::exception&) {
    return 0;
  }
}

std::string message_sk(std::int64_t seq, std::size_t part) {
  char text[40];
  std::snprintf(text, sizeof text, "M#%012lld#%04zu", static_cast<long long>(seq), part);
  return text;
}

std::optional<std::int64_t> message_seq(const std::string& sk) {
  if (sk.size() != 19 || sk.compare(0, 2, "M#") != 0) return std::nullopt;
  std::int64_t seq = 0;
  for (std::size_t i = 2; i < 14; ++i) {
    if (sk[i] < '0' || sk[i] > '9') return std::nullopt;
    seq = seq * 10 + (sk[i] - '0');
  }
  return seq;
}

std::vector<std::string> split_utf8(const std::string& text, std::size_t max) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = std::min(text.size(), start + max);
    while (end < text.size() && end > start &&
           (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80)
      --end;
    parts.push_back(text.substr(start, end - start));
    start = end;
  }
  if (parts.empty()) parts.emplace_back();
  return parts;
}

AssembledMessage assemble_message(std::int64_t seq, std::vector<json> parts) {
  using State = AssembledMessage::State;
  std::sort(parts.begin(), parts.end(),
            [](const json& a, const json& b) { return get_s(a, "sk") < get_s(b, "sk"); });
  if (parts.empty() || get_s(parts.front(), "kind") != "message") return {State::kNoHead, {}};
  const auto& head = parts.front();
  const auto expected = static_cast<std::size_t>(get_n(head, "parts"));
  const auto revision = get_s(head, "rev");
  if (parts.size() != expected) return {State::kTorn, {}};
  std::string body;
  for (const auto& part : parts) {
    if (get_s(part, "rev") != revision) return {State::kTorn, {}};
    body += get_s(part, "body");
  }
  StoredMessage m;
  m.seq = seq;
  m.role = get_s(head, "role");
  m.turn_id = get_s(head, "turn_id");
  m.content = json::parse(body, nullptr, false);
  if (m.content.is_discarded() || !m.content.is_array()) m.content = json::array();
  m.status = get_s(head, "status");
  m.stop_reason = get_s(head, "stop_reason");
  m.error_code = get_s(head, "error_code");
  m.error_message = get_s(head, "error_message");
  m.input_tokens = get_n(head, "input_tokens");
  m.output_tokens = get_n(head, "output_tokens");
  m.created_at_ms = get_n(head, "created_at");
  m.updated_at_ms = get_n(head, "updated_at");
  return {State::kWhole, std::move(m)};
}

}  // namespace agent::store::dynamo
