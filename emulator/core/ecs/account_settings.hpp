#pragma once
// AccountSettings: ECS's account settings (PutAccountSetting, PutAccountSettingDefault,
// ListAccountSettings, DeleteAccountSetting), per region and principal, with the values AWS
// accepts for each setting and AWS's current default for those nobody set. The emulator has no
// IAM: the caller is the account's root user. Persisted as kind "ecs-account-setting". Core
// thread only.

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "emulator/core/result.hpp"
#include "emulator/core/store.hpp"

namespace emu::core::ecs {

/// One setting as ECS answers it.
struct AccountSetting {
  std::string name;
  std::string value;
  std::string principal_arn;
  bool aws_managed = false;  ///< `type`: aws_managed (read-only) or user
  bool operator==(const AccountSetting&) const = default;
};

/// What AWS documents for one setting name.
struct AccountSettingRule {
  std::string_view name;
  std::string_view default_value;
  std::span<const std::string_view> values;  ///< the accepted values
  bool aws_managed = false;                  ///< read-only: AWS sets it (guardDutyActivate)
};

class AccountSettings {
 public:
  AccountSettings(Store& store, std::string account_id);
  AccountSettings(const AccountSettings&) = delete;
  AccountSettings& operator=(const AccountSettings&) = delete;

  /// Every setting name AWS knows, in the model's enum order.
  static std::span<const AccountSettingRule> rules();
  static const AccountSettingRule* rule(std::string_view name);

  /// The account's root user (the caller, the principal of PutAccountSettingDefault).
  std::string root_arn() const;

  /// Sets `name` for `principal` in `region` after checking the value (InvalidParameterException
  /// for a value the setting does not take, a read-only setting, or disabling a long ARN
  /// format, which AWS no longer allows).
  Result<AccountSetting> put(const std::string& region, const std::string& principal,
                             const std::string& name, const std::string& value);
  /// Removes the principal's own value; the answer is the setting it had (or, when it had
  /// none, the one in effect).
  Result<AccountSetting> remove(const std::string& region, const std::string& principal,
                                const std::string& name);
  /// The principal's value, else the root user's, else AWS's default.
  AccountSetting effective(const std::string& region, const std::string& principal,
                           std::string_view name) const;
  /// The values set for `principal` in `region` (rules() order).
  std::vector<AccountSetting> explicit_settings(const std::string& region,
                                                const std::string& principal) const;

  /// Takes a stored row of kind "ecs-account-setting".
  Result<void> load_row(const StoredEntity& row, const nlohmann::json& body);
  void clear() { values_.clear(); }

 private:
  static std::string key(const std::string& region, const std::string& principal,
                         std::string_view name);

  Store& store_;
  std::string account_id_;
  std::map<std::string, std::string> values_;  // region|principal|name -> value
};

}  // namespace emu::core::ecs
