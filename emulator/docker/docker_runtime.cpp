#include "emulator/docker/docker_runtime.hpp"

#include "emulator/log/log.hpp"

namespace emu::docker {

namespace {

constexpr std::string_view kComponent = "docker";

std::string string_at(const nlohmann::json& j, const char* key) {
  if (!j.is_object()) return {};
  const auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string{};
}

bool is_missing_image(const Error& error) {
  // Docker answers 404 "No such image: repo:tag" to a create whose image is not local; a 404
  // for a missing network says something else.
  return error.code == Code::NotFound && error.message.starts_with("No such image");
}

std::string lookup(const std::map<std::string, std::string>& m, const std::string& key) {
  const auto it = m.find(key);
  return it == m.end() ? std::string{} : it->second;
}

}  // namespace

std::pair<std::string, std::string> task_addresses(const core::ObservedContainer& first,
                                                   const nlohmann::json& first_body) {
  std::string network;
  if (first_body.is_object()) {
    if (const auto host = first_body.find("HostConfig");
        host != first_body.end() && host->is_object()) {
      network = string_at(*host, "NetworkMode");
    }
  }
  // Docker: an unset NetworkMode is "default", which on Linux is the "bridge" network.
  if (network.empty() || network == "default") network = "bridge";
  std::string ipv4 = lookup(first.networks, network);
  if (!ipv4.empty()) return {ipv4, lookup(first.networks6, network)};
  for (const auto& [name, ip] : first.networks) {
    if (!ip.empty()) return {ip, lookup(first.networks6, name)};
  }
  return {"", ""};
}

DockerRuntime::DockerRuntime(DockerClient::Options client_options, Post post, RuntimeSink& sink)
    : client_(std::move(client_options)), post_(std::move(post)), sink_(sink) {
  worker_ = std::thread([this] { work(); });
}

DockerRuntime::~DockerRuntime() { shutdown(); }

void DockerRuntime::launch(const core::ecs::TaskPlan& plan) {
  enqueue([this, plan] { run_launch(plan); });
}

void DockerRuntime::stop(const std::string& task_id, const std::vector<std::string>& container_ids,
                         int stop_timeout_s) {
  enqueue([this, task_id, container_ids, stop_timeout_s] {
    run_stop(task_id, container_ids, stop_timeout_s);
  });
}

void DockerRuntime::remove(const std::vector<std::string>& container_ids) {
  enqueue([this, container_ids] { run_remove(container_ids); });
}

void DockerRuntime::remember(const std::string& docker_id, const std::string& task_id,
                             const std::string& container_name) {
  std::lock_guard lock(owners_mutex_);
  owners_[docker_id] = ContainerOwner{task_id, container_name};
}

void DockerRuntime::forget(const std::string& docker_id) {
  std::lock_guard lock(owners_mutex_);
  owners_.erase(docker_id);
}

std::optional<ContainerOwner> DockerRuntime::owner_of(const std::string& docker_id) const {
  std::lock_guard lock(owners_mutex_);
  const auto it = owners_.find(docker_id);
  if (it == owners_.end()) return std::nullopt;
  return it->second;
}

void DockerRuntime::shutdown() {
  {
    std::lock_guard lock(jobs_mutex_);
    stopping_ = true;
    jobs_.clear();
  }
  jobs_cv_.notify_all();
  client_.cancel();  // the job in flight fails at once instead of finishing a pull or a stop
  if (worker_.joinable()) worker_.join();
}

void DockerRuntime::enqueue(Job job) {
  {
    std::lock_guard lock(jobs_mutex_);
    if (stopping_) return;
    jobs_.push_back(std::move(job));
  }
  jobs_cv_.notify_one();
}

void DockerRuntime::work() {
  for (;;) {
    Job job;
    {
      std::unique_lock lock(jobs_mutex_);
      jobs_cv_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (stopping_) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    try {
      job();
    } catch (const std::exception& e) {
      // A bug, not Docker: log it and keep serving the other tasks.
      log::error(kComponent, "runtime job failed", {{"error", e.what()}});
    }
  }
}

void DockerRuntime::deliver(std::function<void()> fn) {
  if (stopping_) return;
  post_(std::move(fn));
}

void DockerRuntime::run_launch(const core::ecs::TaskPlan& plan) {
  const std::string& task_id = plan.task_id;
  std::vector<std::pair<std::string, std::string>> created;  // (ECS name, docker id)

  for (const auto& container : plan.containers) {
    auto id = client_.create_container(container.docker_name, container.body);
    if (!id && is_missing_image(id.error())) {
      const std::string image = string_at(container.body, "Image");
      log::info(kComponent, "pulling image", {{"task", task_id}, {"image", image}});
      if (auto pulled = client_.pull_image(image); !pulled) {
        return abort_launch(task_id, created,
                            "CannotPullContainerError: " + pulled.error().message);
      }
      id = client_.create_container(container.docker_name, container.body);
    }
    if (!id) {
      return abort_launch(task_id, created, "CannotCreateContainerError: " + id.error().message);
    }
    remember(*id, task_id, container.container_name);
    created.emplace_back(container.container_name, *id);
  }
  deliver([this, task_id, created] { sink_.on_containers_created(task_id, created); });

  for (const auto& [name, id] : created) {
    if (auto started = client_.start_container(id); !started) {
      return abort_launch(task_id, created,
                          "CannotStartContainerError: " + started.error().message);
    }
  }
  if (created.empty()) {
    return deliver([this, task_id] { sink_.on_task_started(task_id, "", ""); });
  }

  auto first = client_.inspect_container(created.front().second);
  if (!first) {
    return abort_launch(task_id, created, "CannotInspectContainerError: " + first.error().message);
  }
  auto [ipv4, ipv6] = task_addresses(*first, plan.containers.front().body);
  log::info(
      kComponent, "task started",
      {{"task", task_id}, {"container", created.front().second.substr(0, 12)}, {"ipv4", ipv4}});
  deliver([this, task_id, ipv4 = std::move(ipv4), ipv6 = std::move(ipv6)] {
    sink_.on_task_started(task_id, ipv4, ipv6);
  });
}

void DockerRuntime::abort_launch(const std::string& task_id,
                                 const std::vector<std::pair<std::string, std::string>>& created,
                                 const std::string& reason) {
  log::warn(kComponent, "launch failed", {{"task", task_id}, {"reason", reason}});
  for (const auto& [name, id] : created) {
    if (auto removed = client_.remove_container(id, /*force=*/true); !removed) {
      log::warn(kComponent, "remove failed",
                {{"container", id}, {"error", removed.error().message}});
    }
    forget(id);
  }
  deliver([this, task_id, reason] { sink_.on_launch_failed(task_id, reason); });
}

void DockerRuntime::run_stop(const std::string& task_id,
                             const std::vector<std::string>& container_ids, int stop_timeout_s) {
  for (const auto& id : container_ids) {
    auto stopped = client_.stop_container(id, stop_timeout_s);
    if (stopped) continue;  // the exit arrives as a "die" event
    if (stopped.error().code != Code::NotFound) {
      log::warn(kComponent, "stop failed",
                {{"task", task_id}, {"container", id}, {"error", stopped.error().message}});
      continue;
    }
    // Gone: no event will ever say it exited, so say it here.
    const auto owner = owner_of(id);
    if (!owner) {
      log::warn(kComponent, "stop: unknown container is gone",
                {{"task", task_id}, {"container", id}});
      continue;
    }
    deliver([this, task_id, name = owner->container_name] {
      sink_.on_container_exited(task_id, name, -1, "container not found");
    });
  }
}

void DockerRuntime::run_remove(const std::vector<std::string>& container_ids) {
  for (const auto& id : container_ids) {
    if (auto removed = client_.remove_container(id, /*force=*/true); !removed) {
      log::warn(kComponent, "remove failed",
                {{"container", id}, {"error", removed.error().message}});
      continue;
    }
    forget(id);
  }
}

}  // namespace emu::docker
