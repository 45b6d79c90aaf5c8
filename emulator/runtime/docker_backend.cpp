#include "emulator/runtime/docker_backend.hpp"

#include <boost/asio/post.hpp>

#include "emulator/core/docker_model.hpp"
#include "emulator/log/log.hpp"

namespace emu::runtime {
namespace {

core::Health health_of(const std::string& status) {
  if (status == "healthy") return core::Health::Healthy;
  if (status == "unhealthy") return core::Health::Unhealthy;
  return core::Health::Unknown;  // starting, or no health check
}

std::string label(const std::map<std::string, std::string>& labels, const char* key) {
  const auto it = labels.find(key);
  return it == labels.end() ? std::string() : it->second;
}

void log_failure(const Result<void>& r, const std::string& what) {
  if (!r) log::warn("docker", what + ": " + r.error().message);
}

}  // namespace

/// The runtime's reports, delivered on the core thread, go straight to the ECS engine.
class DockerBackend::Sink final : public docker::RuntimeSink {
 public:
  explicit Sink(core::ecs::EcsEngine& ecs) : ecs_(ecs) {}
  void on_containers_created(const std::string& task_id,
                             const std::vector<std::pair<std::string, std::string>>& ids) override {
    ecs_.on_containers_created(task_id, ids);
  }
  void on_task_started(const std::string& task_id, const std::string& ipv4,
                       const std::string& ipv6) override {
    ecs_.on_task_started(task_id, ipv4, ipv6);
  }
  void on_launch_failed(const std::string& task_id, const std::string& reason) override {
    ecs_.on_launch_failed(task_id, reason);
  }
  void on_container_exited(const std::string& task_id, const std::string& container_name,
                           int exit_code, const std::string& reason) override {
    ecs_.on_container_exited(task_id, container_name, exit_code, reason);
  }

 private:
  core::ecs::EcsEngine& ecs_;
};

DockerBackend::DockerBackend(boost::asio::io_context& io, core::Registry& registry,
                             core::ecs::EcsEngine& ecs, DockerBackendConfig config)
    : io_(io),
      registry_(registry),
      ecs_(ecs),
      config_(std::move(config)),
      discovery_(registry, core::ComposeConfig{config_.network}) {}

DockerBackend::~DockerBackend() { stop(); }

void DockerBackend::post(std::function<void()> fn) { boost::asio::post(io_, std::move(fn)); }

Result<void> DockerBackend::connect() {
  auto path = docker::DockerClient::socket_path_from(config_.url);
  if (!path) return path.error();
  client_ = std::make_unique<docker::DockerClient>(*path);
  auto version = client_->version();
  if (!version) {
    return Error{Code::Unavailable, "cannot reach the Docker engine at " + config_.url + ": " +
                                        version.error().message};
  }
  if (auto net = client_->inspect_network(config_.network); !net) {
    return Error{Code::Unavailable, "Docker network \"" + config_.network +
                                        "\" (--docker-network): " + net.error().message};
  }
  sink_ = std::make_unique<Sink>(ecs_);
  runtime_ = std::make_unique<docker::DockerRuntime>(
      *client_, [this](std::function<void()> fn) { post(std::move(fn)); }, *sink_);
  ecs_.set_runtime(runtime_.get());
  log::info("docker", "connected",
            {{"socket", *path},
             {"network", config_.network},
             {"version", version->value("Version", std::string("?"))}});
  return {};
}

Result<void> DockerBackend::start() {
  instance_ = ecs_.instance_id();  // known once the engine has loaded its state
  // ECS tasks launched before a restart: match them to their containers by label.
  auto owned = client_->list_containers(owned_labels(), /*all=*/true);
  if (!owned) return Error{Code::Unavailable, "listing task containers: " + owned.error().message};
  for (const auto& c : *owned) {
    runtime_->remember(c.id, label(c.labels, core::kLabelTaskId),
                       label(c.labels, core::kLabelContainerName));
  }
  const auto orphans = ecs_.adopt(*owned);
  if (!orphans.empty()) {
    log::info("docker", "removing containers of unknown or stopped tasks",
              {{"count", std::to_string(orphans.size())}});
    runtime_->remove(orphans);
  }
  docker::EventStreamCallbacks callbacks;
  callbacks.on_event = [this](const docker::ContainerEvent& e) { on_event(e); };
  callbacks.on_connected = [this] { resync(); };
  callbacks.on_disconnect = [](const std::string& why) {
    log::warn("docker", "event stream lost; reconnecting", {{"error", why}});
  };
  events_ = std::make_unique<docker::EventStream>(client_->socket_path(), std::move(callbacks));
  events_->start();
  return {};
}

std::vector<std::string> DockerBackend::owned_labels() const {
  return {core::kLabelTaskId, std::string(core::kLabelInstance) + "=" + instance_};
}

void DockerBackend::stop() {
  if (events_) events_->stop();
  if (client_) client_->cancel();
  if (runtime_) runtime_->shutdown();
}

void DockerBackend::resync() {
  if (!first_connection_) {
    // Task containers that exited while the stream was down: their `die` event is lost.
    auto owned = client_->list_containers(owned_labels(), /*all=*/true);
    if (owned) {
      for (const auto& c : *owned) {
        if (c.running() || !c.exit_code) continue;
        post([this, task_id = label(c.labels, core::kLabelTaskId),
              name = label(c.labels, core::kLabelContainerName), code = *c.exit_code] {
          const core::Task* t = registry_.task(task_id);
          if (t && t->last_status != core::TaskStatus::Stopped)
            ecs_.on_container_exited(task_id, name, code, "");
        });
      }
    }
  }
  first_connection_ = false;
  auto labelled = client_->list_containers({core::kLabelService}, /*all=*/false);
  if (!labelled) {
    log::warn("docker", "compose discovery: cannot list containers: " + labelled.error().message);
    return;
  }
  post([this, list = std::move(*labelled)] {
    log_failure(discovery_.resync(list), "compose discovery");
  });
}

void DockerBackend::on_event(const docker::ContainerEvent& e) {
  const std::string task_id = label(e.attributes, core::kLabelTaskId);
  if (!task_id.empty()) {
    // Task containers of another emulator sharing this engine are none of our business.
    if (label(e.attributes, core::kLabelInstance) != instance_) return;
    const std::string name = label(e.attributes, core::kLabelContainerName);
    if (e.action == "die") {
      const int code = e.exit_code.value_or(-1);
      post([this, task_id, name, code] { ecs_.on_container_exited(task_id, name, code, ""); });
    } else if (e.action == "health_status") {
      const auto h = health_of(e.health);
      const std::string reason = "docker health check: " + e.health;
      post(
          [this, task_id, name, h, reason] { ecs_.on_container_health(task_id, name, h, reason); });
    }
    return;
  }
  if (label(e.attributes, core::kLabelService).empty()) return;
  if (e.action == "start" || e.action == "health_status" || e.action == "unpause") {
    // The event lacks the addresses: inspect here, on the stream's thread, not on the core's.
    auto c = client_->inspect_container(e.id);
    if (!c) {
      log::warn("docker",
                "compose discovery: inspect " + e.id.substr(0, 12) + ": " + c.error().message);
      return;
    }
    post([this, c = std::move(*c)] { log_failure(discovery_.observe(c), "compose discovery"); });
  } else if (e.action == "die" || e.action == "destroy" || e.action == "pause") {
    post([this, id = e.id, code = e.exit_code] {
      log_failure(discovery_.gone(id, code), "compose discovery");
    });
  }
}

}  // namespace emu::runtime
