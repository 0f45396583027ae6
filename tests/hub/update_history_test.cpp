// Specification of the bounded history and the update bus's replay-then-live handover.
#include "update_history.h"

#include <gtest/gtest.h>

#include "update_bus.h"

namespace hub {
namespace {

UpdatePtr make(std::uint64_t sequence, std::string id) {
  auto u = std::make_shared<Update>();
  u->sequence = sequence;
  u->id = std::move(id);
  u->topics = {"/t"};
  return u;
}

std::vector<std::string> ids(const std::vector<UpdatePtr>& updates) {
  std::vector<std::string> out;
  for (const auto& u : updates) out.push_back(u->id);
  return out;
}

TEST(UpdateHistory, ReplaysWhatCameAfterAnId) {
  UpdateHistory h(10);
  for (int i = 1; i <= 5; ++i) h.append(make(i, "id" + std::to_string(i)));
  auto r = h.after("id2");
  EXPECT_TRUE(r.found);
  EXPECT_EQ(ids(r.updates), (std::vector<std::string>{"id3", "id4", "id5"}));
  EXPECT_TRUE(h.after("id5").found);
  EXPECT_TRUE(h.after("id5").updates.empty());
  EXPECT_EQ(h.last_event_id(), "id5");
}

TEST(UpdateHistory, EarliestReplaysEverything) {
  UpdateHistory h(10);
  EXPECT_EQ(h.last_event_id(), "earliest");
  h.append(make(1, "a"));
  h.append(make(2, "b"));
  EXPECT_EQ(ids(h.after("earliest").updates), (std::vector<std::string>{"a", "b"}));
}

TEST(UpdateHistory, UnknownIdReplaysNothingAndSaysSo) {
  UpdateHistory h(10);
  h.append(make(1, "a"));
  auto r = h.after("never-published");
  EXPECT_FALSE(r.found);
  EXPECT_TRUE(r.updates.empty());
}

TEST(UpdateHistory, EvictsTheOldestPastCapacity) {
  UpdateHistory h(3);
  for (int i = 1; i <= 5; ++i) h.append(make(i, "id" + std::to_string(i)));
  EXPECT_EQ(h.size(), 3u);
  EXPECT_FALSE(h.after("id1").found);
  EXPECT_FALSE(h.after("id2").found);
  EXPECT_EQ(ids(h.after("id3").updates), (std::vector<std::string>{"id4", "id5"}));
}

TEST(UpdateHistory, RepeatedIdResumesAfterTheLatestAndSurvivesEviction) {
  UpdateHistory h(3);
  h.append(make(1, "dup"));
  h.append(make(2, "x"));
  h.append(make(3, "dup"));
  EXPECT_TRUE(h.after("dup").updates.empty());
  h.append(make(4, "y"));  // evicts the first "dup"; the second stays findable
  EXPECT_EQ(ids(h.after("dup").updates), (std::vector<std::string>{"y"}));
}

TEST(UpdateHistory, ZeroCapacityKeepsNothing) {
  UpdateHistory h(0);
  h.append(make(1, "a"));
  EXPECT_EQ(h.size(), 0u);
  EXPECT_FALSE(h.after("a").found);
}

TEST(UpdateBus, AssignsIncreasingSequencesEncodesOnceAndNotifiesListenersInOrder) {
  UpdateBus bus(10);
  std::vector<std::uint64_t> seen;
  bus.add_listener([&](const UpdatePtr& u) { seen.push_back(u->sequence); });
  Update a;
  a.id = "a";
  a.topics = {"/t"};
  auto pa = bus.publish(a);
  Update b;
  b.id = "b";
  b.topics = {"/t"};
  auto pb = bus.publish(b);
  EXPECT_EQ(seen, (std::vector<std::uint64_t>{1, 2}));
  ASSERT_TRUE(pa->frame);
  EXPECT_EQ(*pa->frame, http_chunk("id: a\ndata: \n\n"));
  auto attachment = bus.attach("a");
  EXPECT_EQ(attachment.sequence, 2u);
  EXPECT_EQ(ids(attachment.replay.updates), (std::vector<std::string>{"b"}));
  EXPECT_EQ(attachment.last_event_id, "b");
  EXPECT_TRUE(bus.attach("").replay.updates.empty());
}

UpdatePtr heavy(std::uint64_t sequence, std::string id, std::size_t frame_bytes) {
  auto u = std::make_shared<Update>();
  u->sequence = sequence;
  u->id = std::move(id);
  u->topics = {"/t"};
  u->frame = std::make_shared<const std::string>(frame_bytes, 'x');
  return u;
}

TEST(UpdateHistory, EvictsTheOldestPastTheByteBound) {
  const std::size_t one = UpdateHistory::footprint(*heavy(1, "id1", 1000));
  UpdateHistory h(100, 3 * one);
  for (int i = 1; i <= 5; ++i) h.append(heavy(i, "id" + std::to_string(i), 1000));
  EXPECT_EQ(h.size(), 3u);
  EXPECT_EQ(h.bytes(), 3 * one);
  EXPECT_FALSE(h.after("id2").found);
  EXPECT_EQ(ids(h.after("id3").updates), (std::vector<std::string>{"id4", "id5"}));
}

TEST(UpdateHistory, AnUpdateHeavierThanTheBoundIsNotKept) {
  UpdateHistory h(100, 4096);
  h.append(heavy(1, "small", 100));
  h.append(heavy(2, "huge", 10000));
  EXPECT_EQ(ids(h.after("earliest").updates), (std::vector<std::string>{"small"}));
  EXPECT_FALSE(h.after("huge").found);
}

TEST(UpdateBus, ReleasesTheDataOnceEncodedSoTheFrameIsTheOnlyCopy) {
  UpdateBus bus(10);
  Update u;
  u.id = "a";
  u.topics = {"/t"};
  u.data = std::string(1000, 'd');
  auto p = bus.publish(std::move(u));
  EXPECT_TRUE(p->data.empty());
  EXPECT_NE(p->frame->find(std::string(1000, 'd')), std::string::npos);
}

TEST(UpdateBus, TheLastEventIdFollowsDispatchEvenWithoutHistory) {
  UpdateBus bus(0);
  EXPECT_EQ(bus.last_event_id(), "earliest");
  Update a;
  a.id = "a";
  a.topics = {"/t"};
  bus.publish(std::move(a));
  EXPECT_EQ(bus.last_event_id(), "a");
  EXPECT_EQ(bus.history_size(), 0u);
  EXPECT_EQ(bus.attach("a").last_event_id, "earliest");  // nothing to resume from
  EXPECT_FALSE(bus.attach("a").replay.found);
}

}  // namespace
}  // namespace hub
