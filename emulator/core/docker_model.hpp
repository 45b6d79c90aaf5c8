#pragma once
// What the daemon knows of a Docker container, in plain values, and the labels it reads and
// writes. The Docker edge (emulator/docker) turns `GET /containers/{id}/json` and the event stream
// into these; core (ECS Docker tasks, compose discovery) decides from them. No I/O here.

#include <map>
#include <optional>
#include <string>

namespace emu::core {

/// Labels on containers that the emulator launched for an ECS task (matched after a restart).
inline constexpr const char* kLabelTaskId = "ecs-emulator.task-id";
/// Which emulator (state) launched it: others sharing the Docker engine leave it alone.
inline constexpr const char* kLabelInstance = "ecs-emulator.instance";
inline constexpr const char* kLabelTaskArn = "com.amazonaws.ecs.task-arn";
inline constexpr const char* kLabelCluster = "com.amazonaws.ecs.cluster";
inline constexpr const char* kLabelFamily = "com.amazonaws.ecs.task-definition-family";
inline constexpr const char* kLabelRevision = "com.amazonaws.ecs.task-definition-version";
inline constexpr const char* kLabelContainerName = "com.amazonaws.ecs.container-name";
/// Labels that users put on their own (compose) containers to have them discovered.
inline constexpr const char* kLabelService = "ecs-emulator.service";  ///< DNS name
inline constexpr const char* kLabelPort = "ecs-emulator.port";        ///< optional port

/// One container as `docker inspect` shows it.
struct ObservedContainer {
  std::string id;    ///< 64 hex
  std::string name;  ///< without the leading '/'
  std::string image;
  std::map<std::string, std::string> labels;
  std::string state;   ///< created | running | paused | restarting | removing | exited | dead
  std::string health;  ///< "" (no healthcheck) | starting | healthy | unhealthy
  std::optional<int> exit_code;                  ///< when exited/dead
  std::string error;                             ///< State.Error, if any
  std::map<std::string, std::string> networks;   ///< network name -> IPv4 ("" when none)
  std::map<std::string, std::string> networks6;  ///< network name -> global IPv6, when any

  bool running() const { return state == "running"; }
};

}  // namespace emu::core
