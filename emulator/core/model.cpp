#include "emulator/core/model.hpp"

#include <array>
#include <string_view>
#include <utility>

namespace emu::core {
namespace {

template <typename E, std::size_t N>
std::optional<E> lookup(const std::array<std::pair<E, const char*>, N>& table, std::string_view s) {
  for (const auto& [value, name] : table) {
    if (s == name) return value;
  }
  return std::nullopt;
}

template <typename E, std::size_t N>
const char* name_of(const std::array<std::pair<E, const char*>, N>& table, E e) {
  for (const auto& [value, name] : table) {
    if (value == e) return name;
  }
  return "?";
}

constexpr std::array<std::pair<Health, const char*>, 3> kHealth{
    {{Health::Unknown, "UNKNOWN"}, {Health::Healthy, "HEALTHY"}, {Health::Unhealthy, "UNHEALTHY"}}};
constexpr std::array<std::pair<TaskStatus, const char*>, 8> kStatus{{
    {TaskStatus::Provisioning, "PROVISIONING"},
    {TaskStatus::Pending, "PENDING"},
    {TaskStatus::Activating, "ACTIVATING"},
    {TaskStatus::Running, "RUNNING"},
    {TaskStatus::Deactivating, "DEACTIVATING"},
    {TaskStatus::Stopping, "STOPPING"},
    {TaskStatus::Deprovisioning, "DEPROVISIONING"},
    {TaskStatus::Stopped, "STOPPED"},
}};
constexpr std::array<std::pair<Routing, const char*>, 2> kRouting{
    {{Routing::Multivalue, "MULTIVALUE"}, {Routing::Weighted, "WEIGHTED"}}};
constexpr std::array<std::pair<OnUnhealthy, const char*>, 2> kOnUnhealthy{
    {{OnUnhealthy::Stop, "stop"}, {OnUnhealthy::Withdraw, "withdraw"}}};
constexpr std::array<std::pair<ProbeType, const char*>, 5> kProbe{
    {{ProbeType::None, "none"},
     {ProbeType::Http, "http"},
     {ProbeType::Tcp, "tcp"},
     {ProbeType::Grpc, "grpc"},
     {ProbeType::Command, "command"}}};
constexpr std::array<std::pair<Launch, const char*>, 4> kLaunch{{{Launch::External, "external"},
                                                                 {Launch::Simulated, "simulated"},
                                                                 {Launch::Docker, "docker"},
                                                                 {Launch::Instance, "instance"}}};
constexpr std::array<std::pair<TaskSource, const char*>, 2> kSource{
    {{TaskSource::Emulator, "emulator"}, {TaskSource::Compose, "compose"}}};
}  // namespace

const char* to_string(Health h) { return name_of(kHealth, h); }
const char* to_string(TaskStatus s) { return name_of(kStatus, s); }
const char* to_string(Routing r) { return name_of(kRouting, r); }
const char* to_string(OnUnhealthy o) { return name_of(kOnUnhealthy, o); }
const char* to_string(ProbeType t) { return name_of(kProbe, t); }
const char* to_string(Launch l) { return name_of(kLaunch, l); }
std::optional<Health> parse_health(std::string_view s) { return lookup(kHealth, s); }
std::optional<TaskStatus> parse_task_status(std::string_view s) { return lookup(kStatus, s); }
std::optional<Routing> parse_routing(std::string_view s) { return lookup(kRouting, s); }
std::optional<OnUnhealthy> parse_on_unhealthy(std::string_view s) {
  return lookup(kOnUnhealthy, s);
}
std::optional<ProbeType> parse_probe_type(std::string_view s) { return lookup(kProbe, s); }
std::optional<Launch> parse_launch(std::string_view s) { return lookup(kLaunch, s); }
const char* to_string(TaskSource s) { return name_of(kSource, s); }
std::optional<TaskSource> parse_task_source(std::string_view s) { return lookup(kSource, s); }

}  // namespace emu::core
