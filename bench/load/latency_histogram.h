// A log-linear latency histogram in the spirit of HdrHistogram: values are bucketed with 128
// sub-buckets per power of two (under 1% relative error), so millions of deliveries cost a few
// kilobytes, and histograms from several load processes merge by adding counts.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bench {

class LatencyHistogram {
 public:
  LatencyHistogram();

  // Records one value (microseconds); negative values count as 0, huge ones as the top bucket.
  void record(int64_t micros);
  void merge(const LatencyHistogram& other);

  uint64_t count() const { return count_; }
  int64_t min() const { return count_ ? min_ : 0; }
  int64_t max() const { return count_ ? max_ : 0; }
  double mean() const {
    return count_ ? static_cast<double>(sum_) / static_cast<double>(count_) : 0;
  }
  // The value at or below which `fraction` (0..1) of the recorded values fall.
  int64_t percentile(double fraction) const;

  // Sparse text form "index:count,index:count;min;max;sum" for passing between processes.
  std::string serialize() const;
  // Returns nullopt for anything serialize() could not have produced.
  static std::optional<LatencyHistogram> parse(std::string_view text);

 private:
  static std::size_t bucket_of(int64_t value);
  static int64_t bucket_upper_value(std::size_t index);

  std::vector<uint64_t> counts_;
  uint64_t count_ = 0;
  int64_t min_ = 0;
  int64_t max_ = 0;
  int64_t sum_ = 0;
};

}  // namespace bench
