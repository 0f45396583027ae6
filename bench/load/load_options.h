// Command-line options of sse_load: "--name value" pairs (and bare "--flag"), validated on
// access so that a bad value stops the run with a one-line message naming the option.
#pragma once

#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace bench {

class OptionError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class LoadOptions {
 public:
  // argv after the scenario name. Throws OptionError for a malformed list.
  LoadOptions(int argc, char** argv, int first);

  std::string text(const std::string& name, const std::string& fallback) const;
  long long integer(const std::string& name, long long fallback, long long min,
                    long long max) const;
  double number(const std::string& name, double fallback, double min, double max) const;
  bool flag(const std::string& name) const;
  // Comma-separated integers ("3701,3702").
  std::vector<int> integers(const std::string& name) const;
  // Every given option must have been read by the scenario: a typo must not pass silently.
  void reject_unknown() const;

 private:
  std::map<std::string, std::string> values_;
  mutable std::map<std::string, bool> used_;
};

}  // namespace bench
