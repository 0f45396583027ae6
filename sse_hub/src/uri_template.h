// RFC 6570 URI templates used as Mercure topic selectors: parsed once, then matched against
// concrete topics. Matching is iterative with a memo table (no regex engine, no recursion), so a
// hostile topic costs at most O(parts x length x length) and can never exhaust the stack.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hub {

class UriTemplate {
 public:
  // nullopt when the text is not a valid template (unbalanced braces, unknown operator, empty or
  // invalid variable name).
  static std::optional<UriTemplate> parse(std::string_view text);

  // True when some assignment of the variables expands to exactly `uri`. Topics longer than
  // kMaxMatchLength never match (bounds the work per match).
  bool matches(std::string_view uri) const;

  static constexpr std::size_t kMaxMatchLength = 4096;

 private:
  struct Part {
    bool literal = true;
    std::string text;  // literal text
    char op = '\0';    // expression operator: '\0', '+', '#', '.', '/', ';', '?', '&'
  };
  std::vector<Part> parts_;
};

// A selector that is a URI template (contains an expression) rather than an exact topic.
bool looks_like_uri_template(std::string_view selector);

}  // namespace hub
