// Serves the embedded UI: "/" is index.html, "/assets/..." the bundle. Every file has a strong
// ETag and "Cache-Control: no-cache" (the browser keeps it and revalidates, getting 304 until a
// new build changes it); HEAD works; anything else is 404.
#pragma once

#include <httplib.h>

#include <map>
#include <string_view>

#include "embedded_files.h"

namespace app {

class StaticSite {
 public:
  explicit StaticSite(std::span<const EmbeddedFile> files);
  void install(httplib::Server& server);
  const EmbeddedFile* find(std::string_view path) const;

 private:
  void serve(const httplib::Request& req, httplib::Response& res) const;
  std::map<std::string_view, const EmbeddedFile*> by_path_;
};

}  // namespace app
