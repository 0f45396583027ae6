// The DynamoDB store, one table (single-table design, keys "pk" and "sk", both strings):
//
//   session   pk = U#<user>            sk = S#<session id>        title, created_at, updated_at,
//   next_seq message   pk = U#<user>#S#<id>     sk = M#<seq:12>#<part:4>   part 0 holds the fields;
//   every part a
//                                                                 slice of the content JSON
//                                                                 ("body")
//   turn lock pk = U#<user>#S#<id>     sk = LOCK                  turn_id, owner, lease_until
//
// Sessions are listed newest first by querying U#<user> backwards (session ids sort by time);
// a session's messages are one partition in seq order. Seqs come from an atomic counter on the
// session item, and each message part is written only if absent, so two writers never overwrite
// each other's messages; no TransactWriteItems (dynalite lacks it). Messages over the item size
// limit are split into parts. User ids cannot contain '#' (the API refuses them), so keys never
// collide. With a TTL, every item carries expires_at (epoch seconds).
#pragma once

#include <chrono>
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
  // Creates the table when asked and missing (and waits until it is active). Throws StoreError.
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
  std::optional<StoredMessage> append_message(const std::string& user_id,
                                              const std::string& session_id,
                                              StoredMessage message) override;
  bool update_message(const std::string& user_id, const std::string& session_id,
                      const StoredMessage& message) override;
  bool acquire_turn_lock(const std::string& user_id, const std::string& session_id,
                         const std::string& turn_id, const std::string& owner,
                         std::int64_t lease_until_ms) override;
  void release_turn_lock(const std::string& user_id, const std::string& session_id,
                         const std::string& turn_id) override;
  std::vector<AbandonedTurn> abandoned_turns(const std::string& owner,
                                             std::int64_t now_ms) override;
  std::string check_ready() override;

 private:
  nlohmann::json call(const std::string& operation, const nlohmann::json& body);
  void ensure_table();
  void put_message_parts(const std::string& user_id, const std::string& session_id,
                         const StoredMessage& message, bool create, std::size_t* parts_written);
  void delete_keys(const std::vector<nlohmann::json>& keys);
  void add_ttl(nlohmann::json& item) const;

  DynamoSettingsForStore settings_;
  std::shared_ptr<shared::aws::AwsJsonClient> client_;
};

}  // namespace agent::store
