// application/x-www-form-urlencoded bodies and query strings (the publish form, subscribe
// queries), and the percent-escaping the hub uses in subscription URLs. Untrusted input: parsing
// returns nullopt on a bad escape, never throws.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hub {

// Fields in their order; a name may repeat (topic=a&topic=b).
using FormFields = std::vector<std::pair<std::string, std::string>>;

// '+' is a space, %XX a byte; nullopt on a truncated or non-hex escape.
std::optional<std::string> form_decode(std::string_view text);
// Splits on '&', skips empty pairs; a pair without '=' has an empty value.
std::optional<FormFields> parse_form(std::string_view text);

std::vector<std::string> form_values(const FormFields& fields, std::string_view name);
// The first value of a field, or nullopt when the field is absent.
std::optional<std::string> form_value(const FormFields& fields, std::string_view name);

// Escapes everything but unreserved characters, a space as '+' (the escaping of Go's
// url.QueryEscape, which the reference hub uses in subscription ids).
std::string query_escape(std::string_view text);

}  // namespace hub
