// The protocol's rule for topics and topic selectors, as the reference hub applies it: valid
// UTF-8 without control characters. Untrusted input (queries, forms) is checked with it before
// the hub acts on it, so that nothing later (JSON encoding, logs, matching) meets bad bytes.
#pragma once

#include <string_view>

namespace hub {

// Well-formed UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing past U+10FFFF.
bool is_valid_utf8(std::string_view text);

// Valid UTF-8 without a C0 control (U+0000-U+001F), DEL (U+007F) or a C1 control
// (U+0080-U+009F).
bool is_protocol_string(std::string_view text);

}  // namespace hub
