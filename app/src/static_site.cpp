#include "static_site.h"

#include "shared/http_error.h"

namespace app {

StaticSite::StaticSite(std::span<const EmbeddedFile> files) {
  for (const auto& f : files) by_path_[f.path] = &f;
}

const EmbeddedFile* StaticSite::find(std::string_view path) const {
  if (path == "/") path = "/index.html";
  const auto it = by_path_.find(path);
  return it == by_path_.end() ? nullptr : it->second;
}

void StaticSite::install(httplib::Server& server) {
  auto handler = [this](const httplib::Request& req, httplib::Response& res) { serve(req, res); };
  server.Get("/", handler);
  server.Get(R"(/assets/[A-Za-z0-9._-]+)", handler);
  server.Get("/favicon.svg", handler);
}

void StaticSite::serve(const httplib::Request& req, httplib::Response& res) const {
  const EmbeddedFile* file = find(req.path);
  if (file == nullptr) throw shared::http::not_found("no such file");
  res.set_header("ETag", std::string(file->etag));
  res.set_header("Cache-Control", "no-cache");
  // The server gzips for clients that accept it: caches must keep the two apart.
  res.set_header("Vary", "Accept-Encoding");
  const std::string if_none_match = req.get_header_value("If-None-Match");
  if (!if_none_match.empty() && if_none_match.find(file->etag) != std::string::npos) {
    res.status = 304;
    return;
  }
  res.set_content(file->body.data(), file->body.size(), std::string(file->content_type).c_str());
}

}  // namespace app
