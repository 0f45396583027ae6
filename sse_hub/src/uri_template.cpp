#include "uri_template.h"

#include <cctype>

namespace hub {
namespace {

bool is_unreserved(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_' ||
         c == '~';
}

bool is_reserved(char c) {
  static constexpr std::string_view kReserved = ":/?#[]@!$&'()*+,;=";
  return kReserved.find(c) != std::string_view::npos;
}

bool is_varchar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '%' || c == '.';
}

// Characters an expanded expression with this operator can contain besides pct-encodings:
// values (unreserved, or reserved too for + and #), list separators and name=value pairs.
bool allowed_in_expansion(char op, char c) {
  if (is_unreserved(c)) return true;
  switch (op) {
    case '+':
    case '#':
      return is_reserved(c);
    case '\0':
      return c == ',';
    case '.':
      return c == ',';
    case '/':
      return c == '/' || c == ',';
    case ';':
      return c == ';' || c == '=' || c == ',';
    case '?':
    case '&':
      return c == '&' || c == '=' || c == ',';
    default:
      return false;
  }
}

char prefix_of(char op) {
  switch (op) {
    case '#':
    case '.':
    case '/':
    case ';':
    case '?':
    case '&':
      return op;
    default:
      return '\0';
  }
}

bool is_hex(char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }

}  // namespace

bool looks_like_uri_template(std::string_view selector) {
  const auto open = selector.find('{');
  return open != std::string_view::npos && selector.find('}', open) != std::string_view::npos;
}

std::optional<UriTemplate> UriTemplate::parse(std::string_view text) {
  UriTemplate t;
  std::size_t i = 0;
  while (i < text.size()) {
    if (text[i] == '}') return std::nullopt;
    if (text[i] != '{') {
      const std::size_t next = text.find_first_of("{}", i);
      const std::size_t end = next == std::string_view::npos ? text.size() : next;
      t.parts_.push_back({true, std::string(text.substr(i, end - i)), '\0'});
      i = end;
      continue;
    }
    const std::size_t close = text.find('}', i);
    if (close == std::string_view::npos) return std::nullopt;
    std::string_view body = text.substr(i + 1, close - i - 1);
    if (body.find('{') != std::string_view::npos) return std::nullopt;
    Part part{false, "", '\0'};
    if (!body.empty() && std::string_view("+#./;?&").find(body[0]) != std::string_view::npos) {
      part.op = body[0];
      body.remove_prefix(1);
    } else if (!body.empty() && std::string_view("=,!@|").find(body[0]) != std::string_view::npos) {
      return std::nullopt;  // reserved for future extensions by the RFC
    }
    // varspec *( "," varspec ), varspec = varname [ ":" max-length / "*" ]
    std::size_t start = 0;
    while (true) {
      const std::size_t comma = body.find(',', start);
      std::string_view spec =
          body.substr(start, comma == std::string_view::npos ? body.npos : comma - start);
      if (!spec.empty() && spec.back() == '*') spec.remove_suffix(1);
      if (const auto colon = spec.find(':'); colon != std::string_view::npos) {
        const std::string_view digits = spec.substr(colon + 1);
        if (digits.empty() || digits.size() > 4 || digits[0] == '0') return std::nullopt;
        for (char c : digits)
          if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
        spec = spec.substr(0, colon);
      }
      if (spec.empty()) return std::nullopt;
      for (char c : spec)
        if (!is_varchar(c)) return std::nullopt;
      if (comma == std::string_view::npos) break;
      start = comma + 1;
    }
    t.parts_.push_back(std::move(part));
    i = close + 1;
  }
  return t;
}

bool UriTemplate::matches(std::string_view uri) const {
  const std::size_t n = uri.size();
  if (n > kMaxMatchLength) return false;
  // reachable[k]: the current part can start at offset k; next[k]: the following part can.
  std::vector<char> reachable(n + 1, 0), next(n + 1, 0), walked(n + 1, 0);
  reachable[0] = 1;
  for (const Part& part : parts_) {
    std::fill(next.begin(), next.end(), 0);
    std::fill(walked.begin(), walked.end(), 0);
    bool any = false;
    // Marks every offset an expansion can end at when it runs from j. Walks from different
    // starts merge once they meet, so each offset is walked once: linear per part.
    auto walk = [&](std::size_t j) {
      while (!walked[j]) {
        walked[j] = 1;
        next[j] = 1;
        if (j >= n) return;
        if (uri[j] == '%') {
          if (j + 2 >= n || !is_hex(uri[j + 1]) || !is_hex(uri[j + 2])) return;
          j += 3;
        } else if (allowed_in_expansion(part.op, uri[j])) {
          ++j;
        } else {
          return;
        }
      }
    };
    for (std::size_t k = 0; k <= n; ++k) {
      if (!reachable[k]) continue;
      any = true;
      if (part.literal) {
        if (uri.substr(k, part.text.size()) == part.text) next[k + part.text.size()] = 1;
        continue;
      }
      // An undefined or empty expression expands to nothing.
      next[k] = 1;
      if (const char prefix = prefix_of(part.op); prefix != '\0') {
        if (k < n && uri[k] == prefix) walk(k + 1);
      } else {
        walk(k);
      }
    }
    if (!any) return false;
    reachable.swap(next);
  }
  return reachable[n] != 0;
}

}  // namespace hub
