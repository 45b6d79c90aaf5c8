#pragma once
// DockerClient: the Docker Engine API (v1.41) over its unix socket, with Boost.Beast. Synchronous:
// one connection per request (`Connection: close`), a deadline per request, no state shared
// between requests, so any thread may call it. Docker's errors (`{"message": ...}` with 4xx/5xx)
// map to emu::Error in one place (error_from_response), always keeping Docker's message.

#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "emulator/core/docker_model.hpp"
#include "emulator/core/result.hpp"
#include "emulator/core/time.hpp"

namespace emu::docker {

/// Every request target starts with this (Docker 20.10 speaks 1.41).
inline constexpr std::string_view kApiPrefix = "/v1.41";

/// What `GET /networks/{name}` says, reduced to what the daemon checks and logs.
struct NetworkInfo {
  std::string id;
  std::string name;
  std::string driver;                ///< bridge, overlay, host, ...
  std::vector<std::string> subnets;  ///< IPAM.Config[].Subnet, IPv4 and IPv6
  bool ipv6 = false;                 ///< EnableIPv6
};

/// One HTTP exchange with the engine, before any mapping.
struct HttpReply {
  unsigned status = 0;
  std::string body;
};

/// Synchronous Docker Engine API client; see the file comment.
class DockerClient {
 public:
  struct Options {
    std::string socket_path = "/var/run/docker.sock";
    /// Deadline of one request (connect + write + read). `stop` adds its grace period to it.
    Duration request_timeout = std::chrono::seconds(30);
    /// Deadline of an image pull, which streams progress until the image is there.
    Duration pull_timeout = std::chrono::minutes(10);
  };

  explicit DockerClient(Options options);
  /// Default timeouts on `socket_path` (see socket_path_from for a URL).
  explicit DockerClient(std::string socket_path);
  DockerClient(const DockerClient&) = delete;
  DockerClient& operator=(const DockerClient&) = delete;

  /// `unix:///var/run/docker.sock` or `/var/run/docker.sock` -> the socket path; anything else
  /// (tcp://, relative paths, empty) is InvalidArgument naming the value.
  [[nodiscard]] static Result<std::string> socket_path_from(std::string_view url);

  const Options& options() const { return options_; }
  const std::string& socket_path() const { return options_.socket_path; }

  /// GET /version, as Docker sends it (Version, ApiVersion, Os, Arch, ...): the daemon checks
  /// the engine answers and logs what it is.
  [[nodiscard]] Result<nlohmann::json> version() const;
  /// POST /containers/create?name=: returns the new container's id. A missing image is
  /// NotFound with Docker's "No such image: ..." message.
  [[nodiscard]] Result<std::string> create_container(const std::string& name,
                                                     const nlohmann::json& body) const;
  /// POST /containers/{id}/start; already started (304) is success.
  [[nodiscard]] Result<void> start_container(const std::string& id) const;
  /// POST /containers/{id}/stop?t=: Docker sends the stop signal, then SIGKILL after
  /// `timeout_s`. Already stopped (304) is success; a container that is gone is NotFound.
  [[nodiscard]] Result<void> stop_container(const std::string& id, int timeout_s) const;
  /// POST /containers/{id}/kill?signal= (e.g. "SIGKILL", "15"). Not running is Conflict.
  [[nodiscard]] Result<void> kill_container(const std::string& id, const std::string& signal) const;
  /// DELETE /containers/{id}?force=; a container that is already gone (404) is success.
  [[nodiscard]] Result<void> remove_container(const std::string& id, bool force) const;
  /// GET /containers/{id}/json, mapped by observed_from_inspect.
  [[nodiscard]] Result<core::ObservedContainer> inspect_container(const std::string& id) const;
  /// GET /containers/json?all=&filters={"label":[...]} and then one inspect per container,
  /// because the list lacks State.Health.Status and the exit code. A container that vanishes
  /// between the list and its inspect is skipped. `labels` entries are "key" or "key=value"
  /// (Docker ANDs them).
  [[nodiscard]] Result<std::vector<core::ObservedContainer>> list_containers(
      const std::vector<std::string>& labels, bool all) const;
  /// GET /images/{ref}/json: true when the image is present locally.
  [[nodiscard]] Result<bool> image_exists(const std::string& ref) const;
  /// POST /images/create?fromImage=&tag= (tag "latest" when the reference has none, never all
  /// tags). The 200 reply is a JSON-lines progress stream; an `{"error": ...}` line is failure.
  [[nodiscard]] Result<void> pull_image(const std::string& ref) const;

  /// GET /networks/{name}; a missing network is NotFound ("network x not found").
  [[nodiscard]] Result<NetworkInfo> inspect_network(const std::string& name) const;

  /// One raw exchange: `target` is appended to kApiPrefix; `body` is sent as JSON when not
  /// empty. Socket errors and timeouts are Unavailable; any HTTP status is returned as is.
  [[nodiscard]] Result<HttpReply> request(std::string_view method, const std::string& target,
                                          const std::string& body, Duration timeout) const;

  /// Aborts the requests in flight on this client and fails every later one with Unavailable
  /// "cancelled" (for shutdown: a pull or a stop can take minutes). Thread-safe.
  void cancel();

 private:
  struct Inflight;

  Options options_;
  mutable std::mutex mutex_;
  mutable std::set<Inflight*> inflight_;
  mutable bool cancelled_ = false;
};

/// Maps a Docker error reply: 404 NotFound, 409 Conflict, 400 InvalidArgument, others
/// Unavailable. The message is Docker's `message` verbatim, or `HTTP <status>: <body>`.
[[nodiscard]] Error error_from_response(unsigned status, std::string_view body);

/// `GET /containers/{id}/json` -> ObservedContainer (pure). InvalidArgument when it is not an
/// object with a string Id.
[[nodiscard]] Result<core::ObservedContainer> observed_from_inspect(const nlohmann::json& inspect);

/// "nginx" -> {"nginx", "latest"}; "host:5000/a/b:1.2" -> {"host:5000/a/b", "1.2"};
/// "a@sha256:..." -> {"a", "sha256:..."} (Docker's fromImage/tag pair; pure).
[[nodiscard]] std::pair<std::string, std::string> split_image_ref(std::string_view ref);

/// Percent-encodes everything but RFC 3986 unreserved characters (query values; pure).
[[nodiscard]] std::string url_encode(std::string_view s);

}  // namespace emu::docker
