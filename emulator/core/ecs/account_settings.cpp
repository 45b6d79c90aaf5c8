#include "emulator/core/ecs/account_settings.hpp"

#include <algorithm>
#include <array>
#include <utility>

#include "emulator/core/ecs/ecs_errors.hpp"
#include "emulator/core/ecs/ecs_json.hpp"

namespace emu::core::ecs {

using nlohmann::json;

namespace {

constexpr std::string_view kKind = "ecs-account-setting";

constexpr std::array<std::string_view, 2> kOnOff = {"enabled", "disabled"};
constexpr std::array<std::string_view, 1> kEnabledOnly = {"enabled"};
constexpr std::array<std::string_view, 3> kInsights = {"enabled", "disabled", "enhanced"};
constexpr std::array<std::string_view, 2> kTagAuthorization = {"on", "off"};
constexpr std::array<std::string_view, 3> kWaitDays = {"0", "7", "14"};
constexpr std::array<std::string_view, 2> kLogModes = {"blocking", "non-blocking"};

// AWS's settings with their current defaults (ECS Developer Guide, "Account settings"): the long
// ARN formats are on for every account and can no longer be turned off; tagging authorization is
// on; Fargate retires tasks after 7 days; the default log driver mode is non-blocking since June
// 2025; guardDutyActivate is read-only (AWS manages it). Order: the model's SettingName enum.
constexpr std::array<AccountSettingRule, 12> kRules = {{
    {"serviceLongArnFormat", "enabled", kEnabledOnly},
    {"taskLongArnFormat", "enabled", kEnabledOnly},
    {"containerInstanceLongArnFormat", "enabled", kEnabledOnly},
    {"awsvpcTrunking", "disabled", kOnOff},
    {"containerInsights", "disabled", kInsights},
    {"fargateFIPSMode", "disabled", kOnOff},
    {"tagResourceAuthorization", "on", kTagAuthorization},
    {"fargateTaskRetirementWaitPeriod", "7", kWaitDays},
    {"guardDutyActivate", "disabled", kOnOff, true},
    {"defaultLogDriverMode", "non-blocking", kLogModes},
    {"fargateEventWindows", "disabled", kOnOff},
    {"dualStackIPv6", "disabled", kOnOff},
}};

bool is_long_arn_format(std::string_view name) {
  return name == "serviceLongArnFormat" || name == "taskLongArnFormat" ||
         name == "containerInstanceLongArnFormat";
}

std::string joined(std::span<const std::string_view> values) {
  std::string out;
  for (const auto v : values) out += (out.empty() ? "" : ", ") + std::string(v);
  return out;
}

}  // namespace

AccountSettings::AccountSettings(Store& store, std::string account_id)
    : store_(store), account_id_(std::move(account_id)) {}

std::span<const AccountSettingRule> AccountSettings::rules() { return kRules; }

const AccountSettingRule* AccountSettings::rule(std::string_view name) {
  const auto it = std::find_if(kRules.begin(), kRules.end(),
                               [&](const AccountSettingRule& r) { return r.name == name; });
  return it == kRules.end() ? nullptr : &*it;
}

std::string AccountSettings::root_arn() const { return "arn:aws:iam::" + account_id_ + ":root"; }

std::string AccountSettings::key(const std::string& region, const std::string& principal,
                                 std::string_view name) {
  return region + "|" + principal + "|" + std::string(name);
}

Result<AccountSetting> AccountSettings::put(const std::string& region, const std::string& principal,
                                            const std::string& name, const std::string& value) {
  const AccountSettingRule* r = rule(name);
  if (!r) return invalid_parameter("Invalid account setting name: " + name + ".");
  if (r->aws_managed) {
    return invalid_parameter("The " + name +
                             " account setting is managed by AWS and can't be modified.");
  }
  if (is_long_arn_format(name) && value == "disabled") {
    return invalid_parameter("You can no longer disable Long Arn settings.");
  }
  if (std::find(r->values.begin(), r->values.end(), value) == r->values.end()) {
    return invalid_parameter("Invalid value '" + value + "' for the " + name +
                             " account setting. Valid values: " + joined(r->values) + ".");
  }
  const auto k = key(region, principal, name);
  const json body = {
      {"region", region}, {"principalArn", principal}, {"name", name}, {"value", value}};
  if (auto c =
          stored::commit(store_, {{StoreChange::Op::Upsert, std::string(kKind), k, body.dump()}});
      !c) {
    return c.error();
  }
  values_[k] = value;
  return AccountSetting{name, value, principal, false};
}

Result<AccountSetting> AccountSettings::remove(const std::string& region,
                                               const std::string& principal,
                                               const std::string& name) {
  const AccountSettingRule* r = rule(name);
  if (!r) return invalid_parameter("Invalid account setting name: " + name + ".");
  if (r->aws_managed) {
    return invalid_parameter("The " + name +
                             " account setting is managed by AWS and can't be modified.");
  }
  const auto k = key(region, principal, name);
  const auto it = values_.find(k);
  if (it == values_.end()) return effective(region, principal, name);
  if (auto c = stored::commit(store_, {{StoreChange::Op::Erase, std::string(kKind), k, {}}}); !c)
    return c.error();
  AccountSetting removed{name, it->second, principal, false};
  values_.erase(it);
  return removed;
}

AccountSetting AccountSettings::effective(const std::string& region, const std::string& principal,
                                          std::string_view name) const {
  const AccountSettingRule* r = rule(name);
  AccountSetting out{std::string(name), r ? std::string(r->default_value) : std::string(),
                     principal, r && r->aws_managed};
  for (const auto& owner : {principal, root_arn()}) {
    if (const auto it = values_.find(key(region, owner, name)); it != values_.end()) {
      out.value = it->second;
      break;
    }
  }
  return out;
}

std::vector<AccountSetting> AccountSettings::explicit_settings(const std::string& region,
                                                               const std::string& principal) const {
  std::vector<AccountSetting> out;
  for (const auto& r : kRules) {
    if (const auto it = values_.find(key(region, principal, r.name)); it != values_.end())
      out.push_back({std::string(r.name), it->second, principal, false});
  }
  return out;
}

Result<void> AccountSettings::load_row(const StoredEntity& row, const json& body) {
  if (!body.is_object() || !body.contains("region") || !body["region"].is_string() ||
      !body.contains("principalArn") || !body["principalArn"].is_string() ||
      !body.contains("name") || !body["name"].is_string() || !body.contains("value") ||
      !body["value"].is_string()) {
    return Error{Code::Internal, "state row " + row.kind + "/" + row.id + ": not a setting"};
  }
  values_[key(body["region"].get<std::string>(), body["principalArn"].get<std::string>(),
              body["name"].get<std::string>())] = body["value"].get<std::string>();
  return {};
}

}  // namespace emu::core::ecs
