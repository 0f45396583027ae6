// Specification of dispatch: who receives an update, exactly once, and only when allowed.
#include "subscriber_index.h"

#include <gtest/gtest.h>

namespace hub {
namespace {

struct Recorder : UpdateSink {
  std::vector<std::string> ids;
  void deliver(const UpdatePtr& u) override { ids.push_back(u->id); }
};

struct Fixture {
  TopicSelectorStore selectors{100};
  SubscriberIndex index;
  std::uint64_t sequence = 0;

  std::size_t publish(std::vector<std::string> topics, bool is_private, std::string id) {
    auto u = std::make_shared<Update>();
    u->topics = std::move(topics);
    u->is_private = is_private;
    u->id = std::move(id);
    u->sequence = ++sequence;
    UpdatePtr shared = u;
    return index.dispatch(*shared, selectors, [&](Subscriber& s) { s.sink->deliver(shared); });
  }
};

Subscriber subscriber(Recorder& r, std::vector<std::string> topics,
                      std::optional<std::vector<std::string>> allowed = std::nullopt) {
  Subscriber s;
  s.topics = std::move(topics);
  s.allowed_private = std::move(allowed);
  s.sink = &r;
  return s;
}

TEST(SubscriberIndex, ExactTemplateAndWildcardSubscribersReceivePublicUpdates) {
  Fixture f;
  Recorder exact, templ, all, other;
  auto a = subscriber(exact, {"/users/u/sessions/1"});
  auto b = subscriber(templ, {"/users/{u}/sessions/{s}"});
  auto c = subscriber(all, {"*"});
  auto d = subscriber(other, {"/elsewhere"});
  for (auto* s : {&a, &b, &c, &d}) f.index.add(s);
  EXPECT_EQ(f.publish({"/users/u/sessions/1"}, false, "u1"), 3u);
  EXPECT_EQ(exact.ids, (std::vector<std::string>{"u1"}));
  EXPECT_EQ(templ.ids, (std::vector<std::string>{"u1"}));
  EXPECT_EQ(all.ids, (std::vector<std::string>{"u1"}));
  EXPECT_TRUE(other.ids.empty());
}

TEST(SubscriberIndex, ASubscriberMatchingSeveralWaysReceivesOnce) {
  Fixture f;
  Recorder r;
  auto s = subscriber(r, {"/a", "/b", "*", "/{x}"});
  f.index.add(&s);
  EXPECT_EQ(f.publish({"/a", "/b"}, false, "once"), 1u);
  EXPECT_EQ(r.ids, (std::vector<std::string>{"once"}));
}

TEST(SubscriberIndex, PrivateUpdatesNeedAMatchingSubscribeClaim) {
  Fixture f;
  Recorder anon, mine, theirs;
  auto a = subscriber(anon, {"/users/alice/sessions/1"});
  auto b = subscriber(mine, {"/users/alice/sessions/1"},
                      std::vector<std::string>{"/users/alice/sessions/{s}"});
  auto c = subscriber(theirs, {"/users/alice/sessions/1"},
                      std::vector<std::string>{"/users/bob/sessions/{s}"});
  for (auto* s : {&a, &b, &c}) f.index.add(s);
  EXPECT_EQ(f.publish({"/users/alice/sessions/1"}, true, "p"), 1u);
  EXPECT_TRUE(anon.ids.empty());
  EXPECT_EQ(mine.ids, (std::vector<std::string>{"p"}));
  EXPECT_TRUE(theirs.ids.empty());
}

TEST(SubscriberIndex, AlreadyReplayedUpdatesAreNotSentAgain) {
  Fixture f;
  Recorder r;
  auto s = subscriber(r, {"/a"});
  s.last_sequence = 1;  // sequence 1 came through the history replay
  f.index.add(&s);
  f.publish({"/a"}, false, "replayed");
  f.publish({"/a"}, false, "live");
  EXPECT_EQ(r.ids, (std::vector<std::string>{"live"}));
}

TEST(SubscriberIndex, RemovedSubscribersReceiveNothing) {
  Fixture f;
  Recorder r1, r2;
  auto s1 = subscriber(r1, {"/a", "{x}"});
  auto s2 = subscriber(r2, {"/a"});
  f.index.add(&s1);
  f.index.add(&s2);
  EXPECT_EQ(f.index.size(), 2u);
  f.index.remove(&s1);
  EXPECT_EQ(f.index.size(), 1u);
  f.publish({"/a"}, false, "x");
  EXPECT_TRUE(r1.ids.empty());
  EXPECT_EQ(r2.ids.size(), 1u);
}

}  // namespace
}  // namespace hub

namespace hub {
namespace {

TEST(SubscriberIndex, ManyPerUserTemplatesOnlyTheMatchingOnesReceive) {
  Fixture f;
  std::vector<Recorder> recorders(2000);
  std::vector<Subscriber> subs;
  subs.reserve(recorders.size());
  for (std::size_t i = 0; i < recorders.size(); ++i) {
    subs.push_back(
        subscriber(recorders[i], {"/users/u" + std::to_string(i) + "/sessions/{session}"}));
  }
  for (auto& s : subs) f.index.add(&s);
  Recorder root;
  auto everything = subscriber(root, {"{+any}"});
  f.index.add(&everything);
  EXPECT_EQ(f.publish({"/users/u1234/sessions/s9"}, false, "x"), 2u);
  EXPECT_EQ(recorders[1234].ids, (std::vector<std::string>{"x"}));
  EXPECT_TRUE(recorders[123].ids.empty());
  EXPECT_EQ(root.ids.size(), 1u);
  for (auto& s : subs) f.index.remove(&s);
  f.index.remove(&everything);
  EXPECT_EQ(f.index.size(), 0u);
  EXPECT_EQ(f.publish({"/users/u1234/sessions/s9"}, false, "y"), 0u);
}

}  // namespace
}  // namespace hub
