#pragma once
// DockerRuntime: the TaskRuntime that runs ECS tasks as Docker containers. launch/stop/remove
// enqueue a job and return at once; one worker thread makes every Docker call, in order, and
// delivers the outcome through `post` so the RuntimeSink (the ECS engine) is only ever called on
// the core thread. Container exits are not reported here: they come from the event stream in the
// daemon glue, except for a container that stop() finds gone.

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "emulator/core/ecs/task_runtime.hpp"
#include "emulator/docker/docker_client.hpp"

namespace emu::docker {

/// Where DockerRuntime reports; EcsEngine implements it. Called on the core thread only.
class RuntimeSink {
 public:
  virtual ~RuntimeSink() = default;
  /// All containers of the task exist: (ECS container name, docker id), in plan order.
  virtual void on_containers_created(
      const std::string& task_id, const std::vector<std::pair<std::string, std::string>>& ids) = 0;
  /// Every container started; the addresses of the first one (the task's ENI), "" when none.
  virtual void on_task_started(const std::string& task_id, const std::string& ipv4,
                               const std::string& ipv6) = 0;
  /// The task could not be launched (`CannotPullContainerError: ...`, ...); its containers are
  /// being removed.
  virtual void on_launch_failed(const std::string& task_id, const std::string& reason) = 0;
  /// A container of the task exited (here: only a container stop() found gone, exit_code -1).
  virtual void on_container_exited(const std::string& task_id, const std::string& container_name,
                                   int exit_code, const std::string& reason) = 0;
};

/// Which task and ECS container a Docker container belongs to.
struct ContainerOwner {
  std::string task_id;
  std::string container_name;
};

/// The task's addresses from its first container's inspect: the network named by the first
/// plan body's HostConfig.NetworkMode ("bridge" for none, "bridge" or "default"), else the first
/// network that has an IPv4. {"", ""} when there is none (host mode, stopped container). Pure.
[[nodiscard]] std::pair<std::string, std::string> task_addresses(
    const core::ObservedContainer& first, const nlohmann::json& first_body);

/// TaskRuntime over the Docker Engine API; see the file comment.
class DockerRuntime final : public core::ecs::TaskRuntime {
 public:
  /// Runs a closure on the core thread (the daemon posts to its io_context).
  using Post = std::function<void(std::function<void()>)>;

  /// The runtime owns a DockerClient made from `client_options`, so shutdown() can cancel the
  /// call in flight (a pull or a stop can take minutes) without touching anyone else's client.
  DockerRuntime(DockerClient::Options client_options, Post post, RuntimeSink& sink);
  /// Same, with `client`'s options (socket, timeouts); `client` itself is not used or kept.
  DockerRuntime(const DockerClient& client, Post post, RuntimeSink& sink)
      : DockerRuntime(client.options(), std::move(post), sink) {}
  /// Shuts down (see shutdown()).
  ~DockerRuntime() override;
  DockerRuntime(const DockerRuntime&) = delete;
  DockerRuntime& operator=(const DockerRuntime&) = delete;

  /// Creates each container in order (pulling the image on "No such image", once), reports
  /// on_containers_created, starts them, inspects the first and reports on_task_started. Any
  /// failure reports on_launch_failed ("CannotPullContainerError: <docker message>",
  /// "CannotCreateContainerError: ...", "CannotStartContainerError: ...",
  /// "CannotInspectContainerError: ...") and force-removes what was created.
  void launch(const core::ecs::TaskPlan& plan) override;
  /// Stops each container with `stop_timeout_s` (Docker: stop signal, SIGKILL after it). A
  /// container that is gone reports on_container_exited(task, name, -1, "container not found")
  /// when remembered; other exits arrive through the event stream.
  void stop(const std::string& task_id, const std::vector<std::string>& container_ids,
            int stop_timeout_s) override;
  /// Force-removes the containers (gone already is fine) and forgets them.
  void remove(const std::vector<std::string>& container_ids) override;

  /// Records a container's owner (launch does this itself; the daemon calls it for containers
  /// adopted after a restart). Thread-safe.
  void remember(const std::string& docker_id, const std::string& task_id,
                const std::string& container_name);
  /// Forgets a container (destroyed). Thread-safe.
  void forget(const std::string& docker_id);
  /// The owner of a remembered container. Thread-safe.
  [[nodiscard]] std::optional<ContainerOwner> owner_of(const std::string& docker_id) const;

  /// Stops the worker: pending jobs are dropped, the Docker call in flight is cancelled, nothing
  /// is posted any more. Returns promptly; idempotent. Later launch/stop/remove are ignored.
  void shutdown();

 private:
  using Job = std::function<void()>;

  void enqueue(Job job);
  void work();
  void run_launch(const core::ecs::TaskPlan& plan);
  void run_stop(const std::string& task_id, const std::vector<std::string>& container_ids,
                int stop_timeout_s);
  void run_remove(const std::vector<std::string>& container_ids);
  /// Removes `created`, then reports on_launch_failed(reason).
  void abort_launch(const std::string& task_id,
                    const std::vector<std::pair<std::string, std::string>>& created,
                    const std::string& reason);
  /// post_(fn) unless shutting down.
  void deliver(std::function<void()> fn);

  DockerClient client_;
  const Post post_;
  RuntimeSink& sink_;

  mutable std::mutex owners_mutex_;
  std::map<std::string, ContainerOwner> owners_;  // docker id -> owner

  std::mutex jobs_mutex_;
  std::condition_variable jobs_cv_;
  std::deque<Job> jobs_;
  std::atomic<bool> stopping_{false};
  std::thread worker_;
};

}  // namespace emu::docker
