// Identifiers the agent makes and accepts: session ids that sort by creation time, turn and tool
// call ids, and the checks on ids that come from outside (they end up in hub topics and store
// keys, so '/', '#' and control characters are refused).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace agent {

// 12 hex digits of milliseconds since the epoch then 16 random hex digits: lexical order is
// creation order, which the stores use to list sessions newest first.
std::string new_session_id(std::int64_t now_ms);
bool is_session_id(std::string_view text);
std::string new_turn_id();
std::string random_hex(std::size_t bytes);

// A user id as the app sends it in X-User-Id: 1..256 printable ASCII characters without
// space, '/', '#', '?', '%', '\\', '{', '}' or quotes.
bool is_valid_user_id(std::string_view text);

std::int64_t now_ms();
// RFC 3339 UTC with milliseconds: 2026-11-23T15:30:12.345Z
std::string format_timestamp(std::int64_t ms);

}  // namespace agent
