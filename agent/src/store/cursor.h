// Opaque pagination cursors: a small JSON object, base64url-encoded, so that clients treat them
// as tokens and the stores can change what they keep in them. A cursor comes back from the
// client, so every field is checked for its type before a store uses it: a forged cursor is a
// BadCursor (400), never an exception from deep inside a store (500).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace agent::store {

std::string encode_cursor(const nlohmann::json& position);
// Throws BadCursor when the text is not a cursor we issued (bad base64, not a JSON object).
// An empty text is the first page: an empty object.
nlohmann::json decode_cursor(const std::string& text);

// The string field of a decoded cursor; nullopt when absent. Throws BadCursor when it is there
// with another type.
std::optional<std::string> cursor_string(const nlohmann::json& position, const char* field);
// The integer field of a decoded cursor, at least min; nullopt when absent. Throws BadCursor when
// it is not an integer or is below min.
std::optional<std::int64_t> cursor_integer(const nlohmann::json& position, const char* field,
                                           std::int64_t min);
// The session id a sessions cursor continues before; nullopt on the first page. Throws BadCursor
// unless it is a well-formed session id.
std::optional<std::string> cursor_session_before(const std::string& text);
// The message seq a messages cursor continues after (0 on the first page). Throws BadCursor
// unless it is a non-negative integer.
std::int64_t cursor_seq_after(const std::string& text);

}  // namespace agent::store
