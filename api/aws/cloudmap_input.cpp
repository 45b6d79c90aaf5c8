#include "api/aws/cloudmap_input.hpp"

#include <memory>

namespace emu::api::aws {
namespace {

const nlohmann::json& empty_object() {
  static const nlohmann::json kEmpty = nlohmann::json::object();
  return kEmpty;
}

std::string constraint(std::string_view path, std::string_view value, std::string_view rule) {
  return "1 validation error detected: Value " + std::string(value) + " at '" + std::string(path) +
         "' failed to satisfy constraint: " + std::string(rule);
}

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string base64url(std::string_view in) {
  std::string out;
  std::uint32_t buf = 0;
  int bits = 0;
  for (unsigned char c : in) {
    buf = (buf << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kAlphabet[(buf >> bits) & 63];
    }
  }
  if (bits > 0) out += kAlphabet[(buf << (6 - bits)) & 63];
  return out;
}

std::optional<std::string> unbase64url(std::string_view in) {
  std::string out;
  std::uint32_t buf = 0;
  int bits = 0;
  for (char c : in) {
    const char* p = std::char_traits<char>::find(kAlphabet, 64, c);
    if (!p) return std::nullopt;
    buf = (buf << 6) | static_cast<std::uint32_t>(p - kAlphabet);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buf >> bits) & 0xff);
    }
  }
  return out;
}

}  // namespace

CloudMapInput::CloudMapInput(const nlohmann::json& object, std::string prefix)
    : CloudMapInput(object, std::move(prefix), std::make_shared<std::string>()) {}

CloudMapInput::CloudMapInput(const nlohmann::json& object, std::string prefix,
                             std::shared_ptr<std::string> error)
    : object_(object.is_object() ? object : empty_object()),
      prefix_(std::move(prefix)),
      error_(std::move(error)) {}

CloudMapInput CloudMapInput::nested(const nlohmann::json& object, std::string prefix) {
  return CloudMapInput(object, std::move(prefix), error_);
}

void CloudMapInput::fail(std::string message) {
  if (error_->empty()) *error_ = std::move(message);
}

const nlohmann::json* CloudMapInput::member(std::string_view name) const {
  const auto it = object_.find(std::string(name));
  if (it == object_.end() || it->is_null()) return nullptr;
  return &*it;
}

bool CloudMapInput::has(std::string_view name) const { return member(name) != nullptr; }

std::string CloudMapInput::str(std::string_view name, bool required, std::size_t max_len) {
  const auto* m = member(name);
  if (!m) {
    if (required) fail(missing_member(path(name)));
    return {};
  }
  if (!m->is_string()) {
    fail(constraint(path(name), m->dump(), "Member must be a string"));
    return {};
  }
  auto value = m->get<std::string>();
  if (required && value.empty()) {
    fail(constraint(path(name), "''", "Member must have length greater than or equal to 1"));
  } else if (max_len && value.size() > max_len) {
    fail(constraint(path(name), "'" + value.substr(0, 64) + (value.size() > 64 ? "...'" : "'"),
                    "Member must have length less than or equal to " + std::to_string(max_len)));
  }
  return value;
}

std::optional<std::int64_t> CloudMapInput::integer(std::string_view name, std::int64_t min,
                                                   std::int64_t max) {
  const auto* m = member(name);
  if (!m) return std::nullopt;
  if (!m->is_number_integer()) {
    fail(constraint(path(name), m->dump(), "Member must be an integer"));
    return std::nullopt;
  }
  const auto v = m->get<std::int64_t>();
  if (v < min) {
    fail(constraint(path(name), "'" + std::to_string(v) + "'",
                    "Member must have value greater than or equal to " + std::to_string(min)));
    return std::nullopt;
  }
  if (v > max) {
    fail(constraint(path(name), "'" + std::to_string(v) + "'",
                    "Member must have value less than or equal to " + std::to_string(max)));
    return std::nullopt;
  }
  return v;
}

const nlohmann::json* CloudMapInput::object(std::string_view name, bool required) {
  const auto* m = member(name);
  if (!m) {
    if (required) fail(missing_member(path(name)));
    return nullptr;
  }
  if (!m->is_object()) {
    fail(constraint(path(name), m->dump(), "Member must be a structure"));
    return nullptr;
  }
  return m;
}

const nlohmann::json* CloudMapInput::array(std::string_view name, bool required) {
  const auto* m = member(name);
  if (!m) {
    if (required) fail(missing_member(path(name)));
    return nullptr;
  }
  if (!m->is_array()) {
    fail(constraint(path(name), m->dump(), "Member must be a list"));
    return nullptr;
  }
  return m;
}

std::map<std::string, std::string> CloudMapInput::string_map(std::string_view name, bool required) {
  std::map<std::string, std::string> out;
  const auto* m = object(name, required);
  if (!m) return out;
  for (const auto& [k, v] : m->items()) {
    if (!v.is_string()) {
      fail(constraint(path(name) + "." + k, v.dump(), "Member must be a string"));
      return out;
    }
    out[k] = v.get<std::string>();
  }
  return out;
}

std::string missing_member(std::string_view path) {
  return constraint(path, "null", "Member must not be null");
}

std::string encode_next_token(std::string_view kind, std::size_t offset) {
  return base64url("cm1|" + std::string(kind) + "|" + std::to_string(offset));
}

std::optional<std::size_t> decode_next_token(std::string_view kind, std::string_view token) {
  const auto raw = unbase64url(token);
  if (!raw) return std::nullopt;
  const std::string head = "cm1|" + std::string(kind) + "|";
  if (raw->rfind(head, 0) != 0) return std::nullopt;
  const auto digits = raw->substr(head.size());
  if (digits.empty() || digits.size() > 9) return std::nullopt;
  std::size_t v = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<std::size_t>(c - '0');
  }
  return v;
}

}  // namespace emu::api::aws
