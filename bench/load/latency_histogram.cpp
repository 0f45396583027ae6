#include "latency_histogram.h"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>

namespace bench {
namespace {

constexpr int kSubBucketBits = 7;
constexpr int64_t kSubBuckets = int64_t{1} << kSubBucketBits;  // 128
// Values up to 2^40 µs (about 12 days) are kept apart; larger ones share the top bucket.
constexpr int kTopExponent = 40;
constexpr std::size_t kBucketCount =
    static_cast<std::size_t>(kSubBuckets + (kTopExponent - kSubBucketBits + 1) * kSubBuckets);

bool parse_int(std::string_view text, int64_t& out) {
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), out);
  return error == std::errc() && end == text.data() + text.size();
}

}  // namespace

LatencyHistogram::LatencyHistogram() : counts_(kBucketCount, 0) {}

std::size_t LatencyHistogram::bucket_of(int64_t value) {
  if (value < kSubBuckets) return static_cast<std::size_t>(value);
  const int exponent = std::bit_width(static_cast<uint64_t>(value)) - 1;  // >= 7
  if (exponent > kTopExponent) return kBucketCount - 1;
  const int shift = exponent - kSubBucketBits;
  const int64_t mantissa = value >> shift;  // in [128, 256)
  return static_cast<std::size_t>(kSubBuckets + shift * kSubBuckets + (mantissa - kSubBuckets));
}

int64_t LatencyHistogram::bucket_upper_value(std::size_t index) {
  const auto i = static_cast<int64_t>(index);
  if (i < kSubBuckets) return i;
  const int64_t shift = (i - kSubBuckets) / kSubBuckets;
  const int64_t mantissa = kSubBuckets + (i - kSubBuckets) % kSubBuckets;
  return ((mantissa + 1) << shift) - 1;
}

void LatencyHistogram::record(int64_t micros) {
  micros = std::max<int64_t>(micros, 0);
  ++counts_[bucket_of(micros)];
  if (count_ == 0 || micros < min_) min_ = micros;
  if (count_ == 0 || micros > max_) max_ = micros;
  ++count_;
  sum_ += micros;
}

void LatencyHistogram::merge(const LatencyHistogram& other) {
  if (other.count_ == 0) return;
  for (std::size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  min_ = count_ ? std::min(min_, other.min_) : other.min_;
  max_ = count_ ? std::max(max_, other.max_) : other.max_;
  count_ += other.count_;
  sum_ += other.sum_;
}

int64_t LatencyHistogram::percentile(double fraction) const {
  if (count_ == 0) return 0;
  fraction = std::clamp(fraction, 0.0, 1.0);
  const auto wanted = std::max<uint64_t>(
      1, static_cast<uint64_t>(std::ceil(fraction * static_cast<double>(count_))));
  uint64_t seen = 0;
  for (std::size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= wanted) return std::clamp(bucket_upper_value(i), min_, max_);
  }
  return max_;
}

std::string LatencyHistogram::serialize() const {
  std::string out;
  for (std::size_t i = 0; i < counts_.size(); ++i) {
    if (counts_[i] == 0) continue;
    if (!out.empty()) out += ',';
    out += std::to_string(i) + ':' + std::to_string(counts_[i]);
  }
  out += ';' + std::to_string(min_) + ';' + std::to_string(max_) + ';' + std::to_string(sum_);
  return out;
}

std::optional<LatencyHistogram> LatencyHistogram::parse(std::string_view text) {
  LatencyHistogram histogram;
  const auto first = text.find(';');
  if (first == std::string_view::npos) return std::nullopt;
  std::string_view buckets = text.substr(0, first);
  std::string_view rest = text.substr(first + 1);
  while (!buckets.empty()) {
    const auto comma = buckets.find(',');
    const std::string_view pair = buckets.substr(0, comma);
    buckets = comma == std::string_view::npos ? std::string_view{} : buckets.substr(comma + 1);
    const auto colon = pair.find(':');
    int64_t index = 0;
    int64_t count = 0;
    if (colon == std::string_view::npos || !parse_int(pair.substr(0, colon), index) ||
        !parse_int(pair.substr(colon + 1), count) || index < 0 ||
        index >= static_cast<int64_t>(kBucketCount) || count < 0) {
      return std::nullopt;
    }
    histogram.counts_[static_cast<std::size_t>(index)] += static_cast<uint64_t>(count);
    histogram.count_ += static_cast<uint64_t>(count);
  }
  const auto second = rest.find(';');
  if (second == std::string_view::npos) return std::nullopt;
  const auto third = rest.find(';', second + 1);
  if (third == std::string_view::npos) return std::nullopt;
  if (!parse_int(rest.substr(0, second), histogram.min_) ||
      !parse_int(rest.substr(second + 1, third - second - 1), histogram.max_) ||
      !parse_int(rest.substr(third + 1), histogram.sum_)) {
    return std::nullopt;
  }
  return histogram;
}

}  // namespace bench
