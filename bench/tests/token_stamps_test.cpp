#include "token_stamps.h"

#include <gtest/gtest.h>

namespace bench {

TEST(TokenStamps, OneDeltaIsOneStamp) {
  EXPECT_EQ(find_token_stamps("<t123456789> "), (std::vector<int64_t>{123456789}));
}

TEST(TokenStamps, CoalescedDeltasGiveEveryStampInOrder) {
  EXPECT_EQ(find_token_stamps("<t1> <t22> <t333> "), (std::vector<int64_t>{1, 22, 333}));
}

TEST(TokenStamps, OtherTextAroundStampsIsSkipped) {
  EXPECT_EQ(find_token_stamps("Hello <t5> world <t6>!"), (std::vector<int64_t>{5, 6}));
}

TEST(TokenStamps, MalformedMarkersAreNotStamps) {
  EXPECT_TRUE(find_token_stamps("").empty());
  EXPECT_TRUE(find_token_stamps("<t> <tx1> <t12 <t1a> t7>").empty());
  // A marker cut off at the end of the text (as no update should be) is no stamp either.
  EXPECT_TRUE(find_token_stamps("<t123").empty());
  // Past 18 digits the value could overflow: not a stamp.
  EXPECT_TRUE(find_token_stamps("<t1234567890123456789>").empty());
  EXPECT_EQ(find_token_stamps("<t<t9>"), (std::vector<int64_t>{9}));
}

}  // namespace bench
