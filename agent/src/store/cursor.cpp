#include "store/cursor.h"

#include "identifiers.h"
#include "shared/jwt.h"
#include "store/session_store.h"

namespace agent::store {

std::string encode_cursor(const nlohmann::json& position) {
  return shared::jwt::base64url_encode(position.dump());
}

nlohmann::json decode_cursor(const std::string& text) {
  if (text.empty()) return nlohmann::json::object();
  if (text.size() > 2048) throw BadCursor();
  const auto bytes = shared::jwt::base64url_decode(text);
  if (!bytes) throw BadCursor();
  auto position = nlohmann::json::parse(*bytes, nullptr, false);
  if (position.is_discarded() || !position.is_object()) throw BadCursor();
  return position;
}

std::optional<std::string> cursor_string(const nlohmann::json& position, const char* field) {
  auto it = position.find(field);
  if (it == position.end()) return std::nullopt;
  if (!it->is_string()) throw BadCursor();
  return it->get<std::string>();
}

std::optional<std::int64_t> cursor_integer(const nlohmann::json& position, const char* field,
                                           std::int64_t min) {
  auto it = position.find(field);
  if (it == position.end()) return std::nullopt;
  // is_number_integer is true for both signed and unsigned JSON integers; an unsigned one past
  // int64 would wrap, so it is refused too.
  if (!it->is_number_integer()) throw BadCursor();
  if (it->is_number_unsigned() && it->get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX))
    throw BadCursor();
  const auto value = it->get<std::int64_t>();
  if (value < min) throw BadCursor();
  return value;
}

std::optional<std::string> cursor_session_before(const std::string& text) {
  const auto before = cursor_string(decode_cursor(text), "before");
  if (before && !is_session_id(*before)) throw BadCursor();
  return before;
}

std::int64_t cursor_seq_after(const std::string& text) {
  return cursor_integer(decode_cursor(text), "after", 0).value_or(0);
}

}  // namespace agent::store
