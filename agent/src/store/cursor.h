// Opaque pagination cursors: a small JSON object, base64url-encoded, so that clients treat them
// as tokens and the stores can change what they keep in them.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace agent::store {

std::string encode_cursor(const nlohmann::json& position);
// Throws BadCursor when the text is not a cursor we issued (bad base64, not a JSON object).
// An empty text is the first page: an empty object.
nlohmann::json decode_cursor(const std::string& text);

}  // namespace agent::store
