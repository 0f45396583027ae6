// The DynamoDB store's item layout (see dynamodb_session_store.h): attribute values, the keys of
// sessions, message parts and turn locks, the sparse index over locks, and turning the parts of
// a message back into one message.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "store/session_store.h"

namespace agent::store::dynamo {

inline nlohmann::json S(const std::string& v) { return {{"S", v}}; }
inline nlohmann::json N(std::int64_t v) { return {{"N", std::to_string(v)}}; }
// An attribute's value; "" or 0 when absent or of another type.
std::string get_s(const nlohmann::json& item, const char* name);
std::int64_t get_n(const nlohmann::json& item, const char* name);

inline std::string user_pk(const std::string& user) { return "U#" + user; }
inline std::string session_sk(const std::string& session) { return "S#" + session; }
inline std::string session_pk(const std::string& user, const std::string& session) {
  return "U#" + user + "#S#" + session;
}
// M#<seq, 12 digits>#<part, 4 digits>
std::string message_sk(std::int64_t seq, std::size_t part);
// The seq of a message part's sort key; nullopt when it is not one.
std::optional<std::int64_t> message_seq(const std::string& sk);
inline constexpr const char* kLockSk = "LOCK";
inline nlohmann::json key(const std::string& pk, const std::string& sk) {
  return {{"pk", S(pk)}, {"sk", S(sk)}};
}

// The sparse global secondary index over turn locks: only lock items carry its keys, so the
// recovery sweep queries the locks whose lease ran out (lease_until < now) in one partition
// instead of scanning the table. One partition is plenty: it holds one small item per running
// turn, written when the turn starts, renews its lease (every AGENT_TURN_LOCK_HEARTBEAT) and ends.
inline constexpr const char* kLockIndex = "locks_by_lease";
inline constexpr const char* kLockIndexHash = "lock_bucket";
inline constexpr const char* kLockIndexRange = "lease_until";
inline constexpr const char* kLockBucket = "LOCK";

// Splits text into slices of at most max bytes without cutting a UTF-8 sequence (DynamoDB
// strings must be valid UTF-8).
std::vector<std::string> split_utf8(const std::string& text, std::size_t max);

// The items of one message (its head, part 0, and its tail parts, in any order) joined back.
struct AssembledMessage {
  enum class State {
    kWhole,   // message is set
    kNoHead,  // tail parts without a head: a first write in flight, or left by a crash
    kTorn,    // a part is missing or parts of two revisions are mixed: read while replaced
  };
  State state = State::kNoHead;
  StoredMessage message;
};
AssembledMessage assemble_message(std::int64_t seq, std::vector<nlohmann::json> parts);

}  // namespace agent::store::dynamo
