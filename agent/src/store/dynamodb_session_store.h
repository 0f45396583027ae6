// The DynamoDB store, one table (single-table design, keys "pk" and "sk", both strings):
//
//   session    pk = U#<user>          sk = S#<session id>       title, created_at, updated_at,
//                                                               next_seq
//   message    pk = U#<user>#S#<id>   sk = M#<seq:12>#<part:4>  part 0 holds the fields; every
//                                                               part a slice of the content JSON
//   turn lock  pk = U#<user>#S#<id>   sk = LOCK                 turn_id, owner, lease_until,
//                                                               lock_bucket (the lock index key)
//
// Sessions are listed newest first by querying U#<user> backwards (session ids sort by time);
// a session's messages are one partition in seq order. Seqs come from an atomic counter on the
// session item, and each new message part is written only if absent, so two writers never
// overwrite each other's messages; no TransactWriteItems (dynalite lacks it). Messages over the
// item size limit are split into parts. A write that finds its session deleted meanwhile removes
// what it wrote. Turn locks are also in a sparse index (locks_by_lease) so that recovery finds
// expired ones without a scan. User ids cannot contain '#' (the API refuses them), so keys never
// collide. With a TTL, every item carries expires_at (epoch seconds).
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>

#include "shared/aws/aws_json_client.h"
#include "store/session_store.h"

namespace agent::store {

struct DynamoSettingsForStore {
  std::string table;
  bool create_table = false;
  std::chrono::seconds ttl{0};
  // Bytes of content JSON per item; well under DynamoDB's 400 KB item limit.
  std::size_t part_bytes = 300 * 1024;
};

class DynamoSessionStore : public SessionStore {
 public:
  // Creates the table (with its lock index) when asked and missing, and waits until it is
  // active. Throws StoreError.
  DynamoSessionStore(DynamoSettingsForStore settings,
                     std::shared_ptr<shared::aws::AwsJsonClient> client);

  Session create_session(const std::string& user_id, const std::string& title) override;
  std::optional<Session> get_session(const std::string& user_id,
                                     const std::string& session_id) override;
  Page<Session> list_sessions(const std::string& user_id, int limit,
                              const std::string& cursor) override;
  std::optional<Session> rename_session(const std::string& user_id, const std::string& session_id,
                                        const std::string& title) override;
  bool delete_session(const std::string& user_id, const std::string& session_id) override;
  Page<StoredMessage> list_messages(const std::string& user_id, const std::string& session_id,
                                    int limit, const std::string& cursor) override;
  std::vector<StoredMessage> recent_messages(const std::string& user_id,
                                             const std::string& session_id, int limit,
                                             std::int64_t before_seq) override;
  std::optional<StoredMessage> append_message(const std::string& user_id,
                                              const std::string& session_id,
                                              StoredMessage message) override;
  bool update_message(const std::string& user_id, const std::string& session_id,
                      const StoredMessage& message) override;
  TurnLockGrant acquire_turn_lock(const std::string& user_id, const std::string& session_id,
                                  const std::string& turn_id, const std::string& owner,
                                  std::int64_t lease_until_ms) override;
  bool renew_turn_lock(const std::string& user_id, const std::string& session_id,
                       const std::string& turn_id, std::int64_t lease_until_ms) override;
  void release_turn_lock(const std::string& user_id, const std::string& session_id,
                         const std::string& turn_id) override;
  std::vector<AbandonedTurn> abandoned_turns(const std::string& owner,
                                             std::int64_t now_ms) override;
  bool claim_turn_lock(const AbandonedTurn& seen, const std::string& claimer,
                       std::int64_t lease_until_ms) override;
  std::string check_ready() override;

 private:
  // Message items by seq, each seq's parts in the order read.
  using MessageItems = std::map<std::int64_t, std::vector<nlohmann::json>>;

  // DynamoDB errors become StoreError, except a failed condition, which stays an AwsError for
  // the caller to read as "not there" or "not ours".
  nlohmann::json call(const std::string& operation, const nlohmann::json& body);
  void ensure_table();
  void add_ttl(nlohmann::json& item) const;
  // Writes a message's parts, tails first and the head last. With create, every part only if
  // absent. Returns how many parts the message has now, or nullopt when the head's condition
  // failed (with create: the seq exists; otherwise: the message is gone), after removing the
  // tail parts this call wrote.
  std::optional<std::size_t> put_message_parts(const std::string& user_id,
                                               const std::string& session_id,
                                               const StoredMessage& message, bool create);
  void delete_message_parts(const std::string& pk, std::int64_t seq, std::size_t from,
                            std::size_t to);
  void delete_keys(const std::vector<nlohmann::json>& keys);
  // Runs a message Query page by page until enough(items) or the last page.
  MessageItems query_message_items(nlohmann::json request,
                                   const std::function<bool(const MessageItems&)>& enough);

  DynamoSettingsForStore settings_;
  std::shared_ptr<shared::aws::AwsJsonClient> client_;
};

}  // namespace agent::store
