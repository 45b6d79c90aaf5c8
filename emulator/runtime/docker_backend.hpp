#pragma once
// DockerBackend: `--docker` wiring. Owns the Docker Engine client, the task runtime (ECS tasks as
// containers), the event stream and compose discovery, and turns what Docker reports into
// EcsEngine / ComposeDiscovery calls on the core thread (the io_context). Docker I/O never runs on
// the core thread: the runtime has its own worker, and the event stream's thread does the
// inspects that an event needs before it posts the result.

#include <boost/asio/io_context.hpp>
#include <memory>
#include <string>
#include <vector>

#include "emulator/core/compose_discovery.hpp"
#include "emulator/core/ecs/ecs_engine.hpp"
#include "emulator/core/registry.hpp"
#include "emulator/core/result.hpp"
#include "emulator/docker/docker_client.hpp"
#include "emulator/docker/docker_runtime.hpp"
#include "emulator/docker/event_stream.hpp"

namespace emu::runtime {

struct DockerBackendConfig {
  std::string url = "unix:///var/run/docker.sock";
  std::string network = "bridge";
};

class DockerBackend {
 public:
  DockerBackend(boost::asio::io_context& io, core::Registry& registry, core::ecs::EcsEngine& ecs,
                DockerBackendConfig config);
  ~DockerBackend();
  DockerBackend(const DockerBackend&) = delete;
  DockerBackend& operator=(const DockerBackend&) = delete;

  /// Checks that the engine answers and that the network exists; installs the runtime in the
  /// ECS engine. Call before EcsEngine::load().
  Result<void> connect();
  /// After EcsEngine::load(): matches Docker tasks to their containers (removing orphans), then
  /// follows the event stream (compose discovery resynchronises on each (re)connection).
  Result<void> start();
  /// Stops the event stream and the runtime's worker (containers keep running).
  void stop();

 private:
  class Sink;
  void on_event(const docker::ContainerEvent& event);  // event-stream thread
  void resync();                                       // event-stream thread
  void post(std::function<void()> fn);
  std::vector<std::string> owned_labels() const;  ///< filters for this instance's containers

  boost::asio::io_context& io_;
  core::Registry& registry_;
  core::ecs::EcsEngine& ecs_;
  DockerBackendConfig config_;
  std::unique_ptr<docker::DockerClient> client_;
  std::unique_ptr<Sink> sink_;
  std::unique_ptr<docker::DockerRuntime> runtime_;
  std::unique_ptr<docker::EventStream> events_;
  core::ComposeDiscovery discovery_;
  std::string instance_;          // EcsEngine::instance_id(), fixed at start()
  bool first_connection_ = true;  // event-stream thread only
};

}  // namespace emu::runtime
