#include "store/cursor.h"

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

}  // namespace agent::store
