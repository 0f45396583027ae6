#include "protocol_string.h"

#include <cstdint>

namespace hub {
namespace {

// Decodes the code point starting at text[i] and advances i; returns -1 for a malformed one.
std::int32_t next_code_point(std::string_view text, std::size_t& i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char lead = byte(i);
  if (lead < 0x80) {
    ++i;
    return lead;
  }
  std::size_t length = 0;
  std::int32_t cp = 0;
  std::int32_t min = 0;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
    cp = lead & 0x1F;
    min = 0x80;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    cp = lead & 0x0F;
    min = 0x800;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    cp = lead & 0x07;
    min = 0x10000;
  } else {
    return -1;  // a continuation byte, or a lead byte that can only start an overlong form
  }
  if (i + length > text.size()) return -1;
  for (std::size_t k = 1; k < length; ++k) {
    const unsigned char c = byte(i + k);
    if ((c & 0xC0) != 0x80) return -1;
    cp = (cp << 6) | (c & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return -1;
  i += length;
  return cp;
}

}  // namespace

bool is_valid_utf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    // ASCII runs are the common case: skip them without decoding.
    if (static_cast<unsigned char>(text[i]) < 0x80) {
      ++i;
      continue;
    }
    if (next_code_point(text, i) < 0) return false;
  }
  return true;
}

bool is_protocol_string(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const std::int32_t cp = next_code_point(text, i);
    if (cp < 0 || cp <= 0x1F || (cp >= 0x7F && cp <= 0x9F)) return false;
  }
  return true;
}

}  // namespace hub
