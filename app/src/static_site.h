// Serves the embedded UI: "/" is index.html, "/assets/..." the bundle. Every file has a strong
// ETag and "Cache-Control: no-cache" (the browser keeps it and revalidates, getting 304 until a
// new build changes it); text files are gzipped once at start and sent so to clients that accept
// gzip; HEAD works; anything else is 404.
#pragma once

#include <map>
#include <span>
#include <string>
#include <string_view>

#include "embedded_files.h"
#include "exchange.h"

namespace app {

class StaticSite {
 public:
  explicit StaticSite(std::span<const EmbeddedFile> files);
  // GET or HEAD of "/", "/favicon.svg" or "/assets/<name>".
  static bool routes(const Request& req);
  Response serve(const Request& req) const;
  const EmbeddedFile* find(std::string_view path) const;

 private:
  std::map<std::string_view, const EmbeddedFile*> by_path_;
  std::map<std::string_view, std::string> gzipped_;  // by path, for files worth compressing
};

// True when an Accept-Encoding value accepts gzip (a "gzip" or "*" coding without q=0).
bool accepts_gzip(std::string_view accept_encoding);
// gzip (RFC 1952) of bytes.
std::string gzip(std::string_view bytes);

}  // namespace app
