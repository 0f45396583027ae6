// The UI's files, built from app/web/ at build time and compiled into the binary
// (cmake/embed_files.cmake generates the definition of embedded_files()).
#pragma once

#include <span>
#include <string_view>

namespace app {

struct EmbeddedFile {
  std::string_view path;  // URL path, e.g. "/index.html", "/assets/app.js"
  std::string_view content_type;
  std::string_view etag;  // strong ETag, quoted, from the content's SHA-256
  std::string_view body;
};

std::span<const EmbeddedFile> embedded_files();

}  // namespace app
