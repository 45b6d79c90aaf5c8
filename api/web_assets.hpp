#pragma once
// The web page's files (api/web/), embedded in the binary at build time by
// api/embed_assets.cmake: each with its content type and an ETag (a hash of its bytes), so the
// page is served the same from the static image and an offline laptop.

#include <span>
#include <string_view>

namespace emu::api {

struct WebAsset {
  std::string_view path;          ///< "index.html", "app.js" (relative to /ui/)
  std::string_view content_type;  ///< "text/html; charset=utf-8", ...
  std::string_view etag;          ///< quoted, e.g. "\"3f2a...\""
  std::string_view body;
};

/// Every embedded file.
std::span<const WebAsset> web_assets();
/// The file at `path`, or nullptr.
const WebAsset* find_web_asset(std::string_view path);

}  // namespace emu::api
