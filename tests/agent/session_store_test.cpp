// The one contract every SessionStore passes, run against each implementation.
#include "store/session_store.h"

#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "identifiers.h"
#include "store/cursor.h"
#include "store_under_test.h"

namespace agent::store {
namespace {

class SessionStoreContract : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override { store_ = testing::make_store_under_test(GetParam()); }
  std::unique_ptr<SessionStore> store_;
  // Each test has its own users, so that stores shared across tests (dynalite) stay independent.
  std::string user(const std::string& name) {
    return name + "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name() + "-" +
           random_hex(3);
  }
};

StoredMessage text_message(const std::string& role, const std::string& text) {
  StoredMessage m;
  m.role = role;
  m.turn_id = "t_test";
  m.content = nlohmann::json::array({{{"type", "text"}, {"text", text}}});
  return m;
}

TEST_P(SessionStoreContract, CreatedSessionCanBeReadBackByItsOwner) {
  const auto alice = user("alice");
  const auto created = store_->create_session(alice, "First chat");
  EXPECT_TRUE(is_session_id(created.id));
  EXPECT_EQ(created.title, "First chat");
  EXPECT_GT(created.created_at_ms, 0);
  const auto read = store_->get_session(alice, created.id);
  ASSERT_TRUE(read);
  EXPECT_EQ(read->id, created.id);
  EXPECT_EQ(read->title, "First chat");
  EXPECT_EQ(read->created_at_ms, created.created_at_ms);
}

TEST_P(SessionStoreContract, AnotherUsersSessionIsInvisibleAndUntouchable) {
  const auto alice = user("alice"), mallory = user("mallory");
  const auto session = store_->create_session(alice, "private");
  ASSERT_TRUE(store_->append_message(alice, session.id, text_message("user", "secret")));
  EXPECT_FALSE(store_->get_session(mallory, session.id));
  EXPECT_FALSE(store_->rename_session(mallory, session.id, "pwned"));
  EXPECT_FALSE(store_->delete_session(mallory, session.id));
  EXPECT_FALSE(store_->append_message(mallory, session.id, text_message("user", "x")));
  EXPECT_TRUE(store_->list_messages(mallory, session.id, 10, "").items.empty());
  EXPECT_TRUE(store_->list_sessions(mallory, 10, "").items.empty());
  EXPECT_FALSE(
      store_->acquire_turn_lock(mallory, session.id, "t1", "me", now_ms() + 60'000).acquired);
  EXPECT_TRUE(store_->recent_messages(mallory, session.id, 10, 0).empty());
  EXPECT_EQ(store_->get_session(alice, session.id)->title, "private");
  EXPECT_EQ(store_->list_messages(alice, session.id, 10, "").items.size(), 1u);
}

TEST_P(SessionStoreContract, SessionsAreListedNewestFirstAcrossPages) {
  const auto alice = user("alice");
  std::vector<std::string> ids;
  for (int i = 0; i < 7; ++i) {
    ids.push_back(store_->create_session(alice, "chat " + std::to_string(i)).id);
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  std::vector<std::string> listed;
  std::string cursor;
  int pages = 0;
  do {
    auto page = store_->list_sessions(alice, 3, cursor);
    EXPECT_LE(page.items.size(), 3u);
    for (const auto& s : page.items) listed.push_back(s.id);
    cursor = page.next_cursor.value_or("");
    ++pages;
  } while (!cursor.empty() && pages < 10);
  EXPECT_EQ(pages, 3);
  const std::vector<std::string> newest_first(ids.rbegin(), ids.rend());
  EXPECT_EQ(listed, newest_first);
}

TEST_P(SessionStoreContract, ACursorThatWasNotIssuedIsRefused) {
  EXPECT_THROW(store_->list_sessions(user("a"), 3, "not a cursor!"), BadCursor);
  EXPECT_THROW(store_->list_messages(user("a"), "x", 3, "bm90IGpzb24"), BadCursor);
}

TEST_P(SessionStoreContract, ACursorWhoseFieldsHaveTheWrongTypeIsRefused) {
  const auto alice = user("alice");
  const auto s = store_->create_session(alice, "forged");
  for (const auto& position :
       {nlohmann::json{{"before", 1}}, nlohmann::json{{"before", nullptr}},
        nlohmann::json{{"before", {"x"}}}, nlohmann::json{{"before", "zzzz"}}})
    EXPECT_THROW(store_->list_sessions(alice, 3, encode_cursor(position)), BadCursor)
        << position.dump();
  for (const auto& position : {nlohmann::json{{"after", "3"}}, nlohmann::json{{"after", 1.5}},
                               nlohmann::json{{"after", -1}}, nlohmann::json{{"after", true}},
                               nlohmann::json{{"after", 18446744073709551615ull}}})
    EXPECT_THROW(store_->list_messages(alice, s.id, 3, encode_cursor(position)), BadCursor)
        << position.dump();
  // What the stores issue still reads.
  EXPECT_NO_THROW(store_->list_messages(alice, s.id, 3, encode_cursor({{"after", 0}})));
  EXPECT_NO_THROW(store_->list_sessions(alice, 3, encode_cursor({{"before", s.id}})));
}

TEST_P(SessionStoreContract, RenameChangesTheTitleOnly) {
  const auto alice = user("alice");
  const auto s = store_->create_session(alice, "old");
  const auto renamed = store_->rename_session(alice, s.id, "new title");
  ASSERT_TRUE(renamed);
  EXPECT_EQ(renamed->title, "new title");
  EXPECT_EQ(renamed->created_at_ms, s.created_at_ms);
  EXPECT_EQ(store_->get_session(alice, s.id)->title, "new title");
  EXPECT_FALSE(store_->rename_session(alice, new_session_id(now_ms()), "x"));
}

TEST_P(SessionStoreContract, MessagesKeepTheirOrderAndContentAcrossPages) {
  const auto alice = user("alice");
  const auto s = store_->create_session(alice, "chat");
  for (int i = 1; i <= 5; ++i) {
    auto saved = store_->append_message(
        alice, s.id, text_message(i % 2 ? "user" : "assistant", "m" + std::to_string(i)));
    ASSERT_TRUE(saved);
    EXPECT_EQ(saved->seq, i);
  }
  auto first = store_->list_messages(alice, s.id, 2, "");
  ASSERT_EQ(first.items.size(), 2u);
  ASSERT_TRUE(first.next_cursor);
  auto second = store_->list_messages(alice, s.id, 2, *first.next_cursor);
  auto third = store_->list_messages(alice, s.id, 2, *second.next_cursor);
  ASSERT_EQ(third.items.size(), 1u);
  EXPECT_FALSE(third.next_cursor);
  EXPECT_EQ(first.items[0].content[0]["text"], "m1");
  EXPECT_EQ(first.items[1].role, "assistant");
  EXPECT_EQ(second.items[0].seq, 3);
  EXPECT_EQ(third.items[0].content[0]["text"], "m5");
}

TEST_P(SessionStoreContract, UpdateReplacesContentStatusAndUsage) {
  const auto alice = user("alice");
  const auto s = store_->create_session(alice, "chat");
  StoredMessage running = text_message("assistant", "");
  running.status = turn_status::kRunning;
  auto saved = store_->append_message(alice, s.id, running);
  ASSERT_TRUE(saved);
  saved->content = nlohmann::json::array({{{"type", "text"}, {"text", "Let me check."}},
                                          {{"type", "tool_call"},
                                           {"call_id", "c1"},
                                           {"name", "current_time"},
                                           {"input", nlohmann::json::object()},
                                           {"output", "2026-01-01T00:00:00.000Z"},
                                           {"is_error", false}}});
  saved->status = turn_status::kCancelled;
  saved->stop_reason = "cancelled";
  saved->input_tokens = 12;
  saved->output_tokens = 34;
  ASSERT_TRUE(store_->update_message(alice, s.id, *saved));
  const auto read = store_->list_messages(alice, s.id, 10, "").items.at(0);
  EXPECT_EQ(read.content, saved->content);
  EXPECT_EQ(read.status, "cancelled");
  EXPECT_EQ(read.stop_reason, "cancelled");
  EXPECT_EQ(read.input_tokens, 12);
  EXPECT_EQ(read.output_tokens, 34);
}

TEST_P(SessionStoreContract, ConcurrentWritersNeverShareOrLoseASeq) {
  const auto alice = user("alice");
  const auto s = store_->create_session(alice, "busy");
  constexpr int kThreads = 4, kEach = 10;
  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t)
    writers.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i)
        store_->append_message(alice, s.id,
                               text_message("user", std::to_string(t) + ":" + std::to_string(i)));
    });
  for (auto& w : writers) w.join();
  std::set<std::int64_t> seqs;
  std::set<std::string> texts;
  std::string cursor;
  do {
    auto page = store_->list_messages(alice, s.id, 15, cursor);
    for (const auto& m : page.items) {
      seqs.insert(m.seq);
      texts.insert(m.content[0]["text"].get<std::string>());
    }
    cursor = page.next_cursor.value_or("");
  } while (!cursor.empty());
  EXPECT_EQ(seqs.size(), static_cast<std::size_t>(kThreads * kEach));
  EXPECT_EQ(texts.size(), static_cast<std::size_t>(kThreads * kEach));
  EXPECT_EQ(*seqs.begin(), 1);
  EXPECT_EQ(*seqs.rbegin(), kThreads * kEach);
}

TEST_P(SessionStoreContract, AMessageLargerThanAnItemLimitRoundTrips) {
  const auto alice = user("alice");
  const auto s = store_->create_session(alice, "long");
  std::string big;
  for (int i = 0; big.size() < 900 * 1024; ++i) big += "line " + std::to_string(i) + " ünïcødé\n";
  auto saved = store_->append_message(alice, s.id, text_message("assistant", big));
  ASSERT_TRUE(saved);
  store_->append_message(alice, s.id, text_message("user", "after"));
  auto page = store_->list_messages(alice, s.id, 1, "");
  ASSERT_EQ(page.items.size(), 1u);
  EXPECT_EQ(page.items[0].content[0]["text"].get<std::string>(), big);
  ASSERT_TRUE(page.next_cursor);
  auto next = store_->list_messages(alice, s.id, 5, *page.next_cursor);
  ASSERT_EQ(next.items.size(), 1u);
  EXPECT_EQ(next.items[0].content[0]["text"], "after");
  // Shrinking it again leaves no stale parts behind.
  saved->content = nlohmann::json::array({{{"type", "text"}, {"text", "short now"}}});
  ASSERT_TRUE(store_->update_message(alice, s.id, *saved));
  auto all = store_->list_messages(alice, s.id, 10, "");
  ASSERT_EQ(all.items.size(), 2u);
  EXPECT_EQ(all.items[0].content[0]["text"], "short now");
}

TEST_P(SessionStoreContract, DeleteRemovesTheSessionItsMessagesAndItsLock) {
  const auto alice = user("alice");
  const auto s = store_->create_session(alice, "doomed");
  store_->append_message(alice, s.id, text_message("user", "hi"));
  ASSERT_TRUE(store_->acquire_turn_lock(alice, s.id, "t1", "me", now_ms() + 60'000).acquired);
  EXPECT_TRUE(store_->delete_session(alice, s.id));
  EXPECT_FALSE(store_->get_session(alice, s.id));
  EXPECT_TRUE(store_->list_messages(alice, s.id, 10, "").items.empty());
  EXPECT_FALSE(store_->append_message(alice, s.id, text_message("user", "again")));
  EXPECT_FALSE(store_->delete_session(alice, s.id));
  EXPECT_TRUE(store_->abandoned_turns("me", now_ms()).empty() || [&] {
    for (const auto& t : store_->abandoned_turns("me", now_ms()))
      if (t.session_id == s.id) return false;
    return true;
  }());
}

TEST_P(SessionStoreContract, OneTurnLockPerSessionUntilReleasedOrExpired) {
  const auto alice = user("alice");
  const auto s = store_->create_session(alice, "locks");
  const auto later = now_ms() + 60'000;
  const auto acquired = [&](const std::string& turn, const std::string& owner, std::int64_t lease) {
    return store_->acquire_turn_lock(alice, s.id, turn, owner, lease).acquired;
  };
  EXPECT_TRUE(acquired("t1", "proc-a", later));
  EXPECT_FALSE(acquired("t2", "proc-b", later));
  store_->release_turn_lock(alice, s.id, "t-other");  // not the holder: no effect
  EXPECT_FALSE(acquired("t2", "proc-b", later));
  store_->release_turn_lock(alice, s.id, "t1");
  EXPECT_TRUE(acquired("t2", "proc-b", now_ms() - 1));  // already expired
  EXPECT_TRUE(acquired("t3", "proc-c", later));         // takes it over
  EXPECT_FALSE(acquired("t4", "proc-d", later));
  EXPECT_FALSE(
      store_->acquire_turn_lock(alice, new_session_id(now_ms()), "t5", "proc-a", later).acquired);
}

TEST_P(SessionStoreContract, ALockTakenOverPastItsLeaseNamesTheTurnItReplaced) {
  const auto alice = user("alice");
  const auto s = store_->create_session(alice, "takeover");
  const auto fresh = store_->acquire_turn_lock(alice, s.id, "t_dead", "dead-proc", now_ms() - 1);
  EXPECT_TRUE(fresh.acquired);
  EXPECT_EQ(fresh.replaced_turn_id, "");  // nothing held it before
  const auto taken =
      store_->acquire_turn_lock(alice, s.id, "t_new", "live-proc", now_ms() + 60'000);
  EXPECT_TRUE(taken.acquired);
  EXPECT_EQ(taken.replaced_turn_id, "t_dead");
  const auto refused = store_->acquire_turn_lock(alice, s.id, "t_3", "x", now_ms() + 60'000);
  EXPECT_FALSE(refused.acquired);
  EXPECT_EQ(refused.replaced_turn_id, "");
}

TEST_P(SessionStoreContract, RenewingExtendsTheLeaseOnlyForTheTurnThatHoldsTheLock) {
  const auto alice = user("alice");
  const auto s = store_->create_session(alice, "renew");
  ASSERT_TRUE(store_->acquire_turn_lock(alice, s.id, "t1", "proc", now_ms() + 300).acquired);
  EXPECT_TRUE(store_->renew_turn_lock(alice, s.id, "t1", now_ms() + 60'000));
  EXPECT_FALSE(store_->renew_turn_lock(alice, s.id, "t2", now_ms() + 60'000));
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  // Past the first lease, but renewed: still held.
  EXPECT_FALSE(store_->acquire_turn_lock(alice, s.id, "t2", "other", now_ms() + 60'000).acquired);
  store_->release_turn_lock(alice, s.id, "t1");
  EXPECT_FALSE(store_->renew_turn_lock(alice, s.id, "t1", now_ms() + 60'000));
  EXPECT_FALSE(store_->renew_turn_lock(user("mallory"), s.id, "t1", now_ms() + 60'000));
}

TEST_P(SessionStoreContract, AbandonedTurnsAreThoseOfTheOwnerOrPastTheirLease) {
  const auto alice = user("alice");
  const auto owner = "proc-" + random_hex(4);
  const auto a = store_->create_session(alice, "a");
  const auto b = store_->create_session(alice, "b");
  const auto c = store_->create_session(alice, "c");
  ASSERT_TRUE(store_->acquire_turn_lock(alice, a.id, "ta", owner, now_ms() + 600'000).acquired);
  ASSERT_TRUE(
      store_->acquire_turn_lock(alice, b.id, "tb", "other-" + owner, now_ms() + 600'000).acquired);
  ASSERT_TRUE(
      store_->acquire_turn_lock(alice, c.id, "tc", "other-" + owner, now_ms() + 100).acquired);
  const auto found = [&](const std::string& who) {
    std::set<std::string> turns;
    for (const auto& t : store_->abandoned_turns(who, now_ms() + 1000))
      if (t.user_id == alice) turns.insert(t.turn_id + "@" + t.session_id);
    return turns;
  };
  // The sweep reads from an index that may lag the write a little (DynamoDB's GSIs do).
  for (int i = 0; i < 50 && found(owner).size() < 2; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(found(owner), (std::set<std::string>{"ta@" + a.id, "tc@" + c.id}));
  EXPECT_EQ(found(""), (std::set<std::string>{"tc@" + c.id}));
}

TEST_P(SessionStoreContract, AClaimTakesAnAbandonedLockOnlyWhileItIsUnchanged) {
  const auto alice = user("alice");
  const auto s = store_->create_session(alice, "claim");
  const auto t = store_->create_session(alice, "renewed");
  ASSERT_TRUE(store_->acquire_turn_lock(alice, s.id, "t_dead", "dead", now_ms() - 10).acquired);
  ASSERT_TRUE(store_->acquire_turn_lock(alice, t.id, "t_slow", "slow", now_ms() - 10).acquired);
  std::vector<AbandonedTurn> seen;
  for (int i = 0; i < 50 && seen.size() < 2; ++i) {
    seen.clear();
    for (const auto& lock : store_->abandoned_turns("", now_ms()))
      if (lock.user_id == alice) seen.push_back(lock);
    if (seen.size() < 2) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(seen.size(), 2u);
  const auto& dead = seen[0].turn_id == "t_dead" ? seen[0] : seen[1];
  const auto& slow = seen[0].turn_id == "t_dead" ? seen[1] : seen[0];
  EXPECT_EQ(dead.owner, "dead");
  EXPECT_EQ(dead.session_id, s.id);
  // The slow turn renews before anyone claims it: it is not abandoned any more.
  ASSERT_TRUE(store_->renew_turn_lock(alice, t.id, "t_slow", now_ms() + 60'000));
  EXPECT_FALSE(store_->claim_turn_lock(slow, "sweeper-1", now_ms() + 60'000));
  // Two sweepers see the dead one: one wins.
  EXPECT_TRUE(store_->claim_turn_lock(dead, "sweeper-1", now_ms() + 60'000));
  EXPECT_FALSE(store_->claim_turn_lock(dead, "sweeper-2", now_ms() + 60'000));
  // Claimed, it is held (its turn id kept) until released.
  EXPECT_FALSE(store_->acquire_turn_lock(alice, s.id, "t_new", "x", now_ms() + 60'000).acquired);
  store_->release_turn_lock(alice, s.id, "t_dead");
  EXPECT_TRUE(store_->acquire_turn_lock(alice, s.id, "t_new", "x", now_ms() + 60'000).acquired);
}

TEST_P(SessionStoreContract, RecentMessagesAreTheLastOnesBeforeASeqOldestFirst) {
  const auto alice = user("alice");
  const auto s = store_->create_session(alice, "long chat");
  std::string big;
  for (int i = 0; big.size() < 200 * 1024; ++i) big += "word" + std::to_string(i) + " ";
  for (int i = 1; i <= 10; ++i)
    ASSERT_TRUE(store_->append_message(
        alice, s.id,
        text_message(i % 2 ? "user" : "assistant",
                     i == 7 ? big : "m" + std::to_string(i))));  // one spans several items
  const auto seqs = [](const std::vector<StoredMessage>& messages) {
    std::vector<std::int64_t> out;
    for (const auto& m : messages) out.push_back(m.seq);
    return out;
  };
  EXPECT_EQ(seqs(store_->recent_messages(alice, s.id, 3, 0)),
            (std::vector<std::int64_t>{8, 9, 10}));
  const auto before9 = store_->recent_messages(alice, s.id, 3, 9);
  EXPECT_EQ(seqs(before9), (std::vector<std::int64_t>{6, 7, 8}));
  EXPECT_EQ(before9[1].content[0]["text"].get<std::string>(), big);
  EXPECT_EQ(before9[0].content[0]["text"], "m6");
  EXPECT_EQ(before9[0].role, "assistant");
  EXPECT_EQ(seqs(store_->recent_messages(alice, s.id, 20, 4)),
            (std::vector<std::int64_t>{1, 2, 3}));
  EXPECT_TRUE(store_->recent_messages(alice, s.id, 5, 1).empty());
  EXPECT_TRUE(store_->recent_messages(alice, s.id, 0, 0).empty());
  EXPECT_EQ(store_->recent_messages(alice, s.id, 100, 0).size(), 10u);
}

INSTANTIATE_TEST_SUITE_P(Stores, SessionStoreContract,
                         ::testing::ValuesIn(testing::stores_under_test()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace agent::store
