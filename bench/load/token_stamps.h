// The send-time stamps in the fake Bedrock's "clock" answers (tests/fakes/fake_bedrock.h): each
// text delta is "<t{ns}> ", {ns} being CLOCK_MONOTONIC nanoseconds when the fake wrote it. The
// agent coalesces deltas, so one update's text holds any number of stamps; other text is skipped.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace bench {

// The stamps in `text`, in order. A "<t" not followed by 1 to 18 digits and '>' is not a stamp.
std::vector<int64_t> find_token_stamps(std::string_view text);

}  // namespace bench
