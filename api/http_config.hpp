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
  /// Most open connections; 0 = no cap. At the cap a new connection first closes the session idle
  /// the longest, else it is answered 503 (HttpListener). 512: the daemon raises its fd soft
  /// limit to the hard limit (runtime/fd_limit), and under the common hard limit of 1024 this
  /// keeps half of the descriptors for what must not starve when a client floods the API port:
  /// DNS over TCP, health probes (one socket each), SQLite and command probes (SPEC 12: resource
  /// exhaustion never changes a task's health).
  std::size_t max_connections = 512;
};

}  // namespace emu::api
