#include "token_stamps.h"

namespace bench {

std::vector<int64_t> find_token_stamps(std::string_view text) {
  // 18 digits cannot overflow int64_t; CLOCK_MONOTONIC needs 19 only after 31 years of uptime.
  constexpr std::size_t kMaxDigits = 18;
  std::vector<int64_t> stamps;
  std::size_t at = 0;
  while ((at = text.find("<t", at)) != std::string_view::npos) {
    std::size_t i = at + 2;
    int64_t value = 0;
    while (i < text.size() && i - (at + 2) < kMaxDigits && text[i] >= '0' && text[i] <= '9') {
      value = value * 10 + (text[i] - '0');
      ++i;
    }
    if (i > at + 2 && i < text.size() && text[i] == '>') {
      stamps.push_back(value);
      at = i + 1;
    } else {
      at += 2;
    }
  }
  return stamps;
}

}  // namespace bench
