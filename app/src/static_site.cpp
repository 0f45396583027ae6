#include "static_site.h"

#include <zlib.h>

#include <cstdlib>
#include <stdexcept>

#include "shared/http_error.h"

namespace app {
namespace {

bool compressible(std::string_view type) {
  return type.starts_with("text/") || type.starts_with("application/json") ||
         type.starts_with("image/svg+xml") || type.starts_with("application/javascript");
}

bool asset_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

bool accepts_gzip(std::string_view value) {
  while (!value.empty()) {
    const auto comma = value.find(',');
    std::string_view item = trim(value.substr(0, comma));
    value = comma == std::string_view::npos ? std::string_view() : value.substr(comma + 1);
    const auto semi = item.find(';');
    const std::string_view coding = trim(item.substr(0, semi));
    if (!iequals(coding, "gzip") && coding != "*") continue;
    if (semi == std::string_view::npos) return true;
    std::string_view params = trim(item.substr(semi + 1));
    if (params.starts_with("q=") || params.starts_with("Q=")) {
      const std::string q(params.substr(2));
      return std::strtod(q.c_str(), nullptr) > 0.0;
    }
    return true;
  }
  return false;
}

std::string gzip(std::string_view bytes) {
  z_stream z{};
  // 15 + 16: a gzip wrapper instead of zlib's.
  if (deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK)
    throw std::runtime_error("deflateInit2 failed");
  std::string out(deflateBound(&z, static_cast<uLong>(bytes.size())), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  z.avail_in = static_cast<uInt>(bytes.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  if (rc != Z_STREAM_END) throw std::runtime_error("deflate failed");
  return out;
}

StaticSite::StaticSite(std::span<const EmbeddedFile> files) {
  for (const auto& f : files) {
    by_path_[f.path] = &f;
    if (compressible(f.content_type) && f.body.size() > 256) {
      std::string packed = gzip(f.body);
      if (packed.size() < f.body.size()) gzipped_[f.path] = std::move(packed);
    }
  }
}

bool StaticSite::routes(const Request& req) {
  if (req.method != "GET" && req.method != "HEAD") return false;
  const std::string& p = req.path;
  if (p == "/" || p == "/favicon.svg") return true;
  constexpr std::string_view kAssets = "/assets/";
  if (!p.starts_with(kAssets) || p.size() == kAssets.size()) return false;
  for (std::size_t i = kAssets.size(); i < p.size(); ++i)
    if (!asset_name_char(p[i])) return false;
  return true;
}

const EmbeddedFile* StaticSite::find(std::string_view path) const {
  if (path == "/") path = "/index.html";
  const auto it = by_path_.find(path);
  return it == by_path_.end() ? nullptr : it->second;
}

Response StaticSite::serve(const Request& req) const {
  const EmbeddedFile* file = find(req.path);
  if (file == nullptr) throw shared::http::not_found("no such file");
  Response res;
  res.headers.emplace_back("ETag", std::string(file->etag));
  res.headers.emplace_back("Cache-Control", "no-cache");
  // Sent gzipped to clients that accept it: caches must keep the two apart.
  res.headers.emplace_back("Vary", "Accept-Encoding");
  const std::string if_none_match = req.header("If-None-Match");
  if (!if_none_match.empty() && if_none_match.find(file->etag) != std::string::npos) {
    res.status = 304;
    return res;
  }
  res.headers.emplace_back("Content-Type", std::string(file->content_type));
  const auto packed = gzipped_.find(file->path);
  if (packed != gzipped_.end() && accepts_gzip(req.header("Accept-Encoding"))) {
    res.headers.emplace_back("Content-Encoding", "gzip");
    res.static_body = packed->second;
  } else {
    res.static_body = file->body;
  }
  return res;
}

}  // namespace app
