#pragma once
// Settings of the HTTP server (--api-listen and the limits of SPEC section 7).

#include <chrono>
#include <cstddef>
#include <string>

namespace emu::api {

/// Listen address and per-connection limits.
struct HttpConfig {
  std::string listen = "127.0.0.1:9080";  ///< host:port; port 0 = ephemeral
  std::size_t body_limit = 1 << 20;       ///< larger bodies get 413 and the connection closes
  std::chrono::milliseconds header_timeout{10000};  ///< first byte to complete request
  std::chrono::milliseconds idle_timeout{60000};    ///< between requests, and per write
};

}  // namespace emu::api
