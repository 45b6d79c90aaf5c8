#include "api/aws/aws_validate.hpp"

#include <map>
#include <memory>
#include <mutex>
#include <regex>

namespace emu::api::aws {
namespace {

using model::Kind;
using model::Shape;
using nlohmann::json;

// Values are quoted as AWS does, cut at 64 characters as the rest of the edge cuts them.
constexpr std::size_t kValueCut = 64;
// std::regex recurses per character: patterns are checked on strings up to this size only (every
// patterned shape of the models has a smaller max length, checked first).
constexpr std::size_t kPatternLimit = 2048;

std::string quoted(const std::string& text) {
  if (text.size() <= kValueCut) return "'" + text + "'";
  return "'" + text.substr(0, kValueCut) + "...'";
}

std::string render(const json& v) {
  if (v.is_string()) return quoted(v.get<std::string>());
  if (v.is_array()) {
    std::string out = "[";
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (i) out += ", ";
      out += v[i].is_string() ? v[i].get<std::string>() : v[i].dump();
    }
    return quoted(out + "]");
  }
  return quoted(v.dump());
}

/// Characters, not bytes: AWS counts a UTF-8 sequence once.
std::size_t length_of(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

/// The compiled pattern, or nullptr when std::regex cannot express it (Java's \p{L} classes):
/// such a pattern is not checked.
const std::regex* compiled(std::string_view pattern) {
  static std::mutex mutex;
  static std::map<std::string, std::unique_ptr<std::regex>, std::less<>> cache;
  // ECMAScript reads \p{L} as a literal "p{L}" instead of failing: such a pattern is skipped.
  if (pattern.find("\\p{") != std::string_view::npos ||
      pattern.find("\\P{") != std::string_view::npos)
    return nullptr;
  std::lock_guard lock(mutex);
  auto it = cache.find(pattern);
  if (it == cache.end()) {
    std::unique_ptr<std::regex> re;
    try {
      re = std::make_unique<std::regex>(std::string(pattern), std::regex::ECMAScript);
    } catch (const std::regex_error&) {
    }
    it = cache.emplace(std::string(pattern), std::move(re)).first;
  }
  return it->second.get();
}

bool matches(std::string_view pattern, const std::string& text) {
  if (text.size() > kPatternLimit) return true;
  const auto* re = compiled(pattern);
  if (!re) return true;
  try {
    return std::regex_match(text, *re);
  } catch (const std::regex_error&) {
    return true;  // too complex for std::regex: not checked
  }
}

class Walker {
 public:
  explicit Walker(const model::ServiceModel& service) : service_(service) {}

  void shape(std::int32_t index, const json& v, const std::string& path) {
    const Shape& s = service_.shapes[static_cast<std::size_t>(index)];
    switch (s.kind) {
      case Kind::Structure:
        if (!v.is_object()) return type(path, v, "Member must be a structure");
        for (const auto& m : service_.members_of(s)) {
          const auto it = v.find(std::string(m.name));
          const std::string sub = (path.empty() ? "" : path + ".") + std::string(m.name);
          if (it == v.end() || it->is_null()) {
            if (m.required) add(sub, "null", "Member must not be null");
            continue;
          }
          shape(m.shape, *it, sub);
        }
        return;
      case Kind::List:
        if (!v.is_array()) return type(path, v, "Member must be a list");
        length(s, v.size(), path, v);
        for (std::size_t i = 0; i < v.size(); ++i) {
          if (v[i].is_null()) continue;
          shape(s.element, v[i], path + "." + std::to_string(i + 1) + ".member");
        }
        return;
      case Kind::Map:
        if (!v.is_object()) return type(path, v, "Member must be a map");
        length(s, v.size(), path, v);
        for (const auto& [k, item] : v.items()) {
          if (s.key >= 0) key(s.key, k, path);
          if (!item.is_null()) shape(s.element, item, path + "." + k);
        }
        return;
      case Kind::String: {
        if (!v.is_string()) return type(path, v, "Member must be a string");
        string(s, v.get<std::string>(), path);
        return;
      }
      case Kind::Boolean:
        if (!v.is_boolean()) type(path, v, "Member must be a boolean");
        return;
      case Kind::Integer:
      case Kind::Long: {
        if (!v.is_number_integer()) return type(path, v, "Member must be an integer");
        const bool is_int = s.kind == Kind::Integer;
        if (v.is_number_unsigned() && v.get<std::uint64_t>() > INT64_MAX)
          return type(path, v, "Member must be an integer");
        const auto n = v.get<std::int64_t>();
        if (is_int && (n < INT32_MIN || n > INT32_MAX))
          return type(path, v, "Member must be an integer");
        range(s, static_cast<double>(n), path, v);
        return;
      }
      case Kind::Double:
      case Kind::Float:
        if (!v.is_number()) return type(path, v, "Member must be a number");
        range(s, v.get<double>(), path, v);
        return;
      case Kind::Timestamp:
        if (!v.is_number() && !v.is_string()) type(path, v, "Member must be a timestamp");
        return;
      case Kind::Blob:
        if (!v.is_string()) type(path, v, "Member must be a blob");
        return;
    }
  }

  std::vector<Violation> take() { return std::move(out_); }

 private:
  void add(const std::string& path, std::string value, std::string rule) {
    out_.push_back({path, std::move(value), std::move(rule), false});
  }
  void type(const std::string& path, const json& v, std::string rule) {
    out_.push_back({path, v.dump(), std::move(rule), true});
  }

  void length(const Shape& s, std::size_t n, const std::string& path, const json& v) {
    if (s.has_min && static_cast<std::int64_t>(n) < s.min) {
      add(path, render(v),
          "Member must have length greater than or equal to " + std::to_string(s.min));
    } else if (s.has_max && static_cast<std::int64_t>(n) > s.max) {
      add(path, render(v),
          "Member must have length less than or equal to " + std::to_string(s.max));
    }
  }

  void range(const Shape& s, double n, const std::string& path, const json& v) {
    if (s.has_min && n < static_cast<double>(s.min)) {
      add(path, render(v),
          "Member must have value greater than or equal to " + std::to_string(s.min));
    } else if (s.has_max && n > static_cast<double>(s.max)) {
      add(path, render(v), "Member must have value less than or equal to " + std::to_string(s.max));
    }
  }

  /// A string's length, enum and pattern (each broken constraint is one violation, as AWS lists
  /// them).
  void string(const Shape& s, const std::string& text, const std::string& path) {
    const auto n = static_cast<std::int64_t>(length_of(text));
    bool length_ok = true;
    if (s.has_min && n < s.min) {
      add(path, quoted(text),
          "Member must have length greater than or equal to " + std::to_string(s.min));
      length_ok = false;
    } else if (s.has_max && n > s.max) {
      add(path, quoted(text),
          "Member must have length less than or equal to " + std::to_string(s.max));
      length_ok = false;
    }
    const auto values = service_.enums_of(s);
    if (!values.empty()) {
      bool found = false;
      for (const auto& e : values) found = found || e == text;
      if (!found) {
        std::string set = "[";
        for (std::size_t i = 0; i < values.size(); ++i) {
          if (i) set += ", ";
          set += values[i];
        }
        add(path, quoted(text), "Member must satisfy enum value set: " + set + "]");
      }
    }
    if (length_ok && !s.pattern.empty() && !matches(s.pattern, text)) {
      add(path, quoted(text),
          "Member must satisfy regular expression pattern: " + std::string(s.pattern));
    }
  }

  void key(std::int32_t index, const std::string& k, const std::string& path) {
    const Shape& s = service_.shapes[static_cast<std::size_t>(index)];
    if (s.kind == Kind::String) string(s, k, path);
  }

  const model::ServiceModel& service_;
  std::vector<Violation> out_;
};

}  // namespace

std::vector<Violation> validate_shape(const model::ServiceModel& service, std::int32_t shape,
                                      const nlohmann::json& value, const std::string& path) {
  Walker w(service);
  w.shape(shape, value, path);
  return w.take();
}

std::vector<Violation> validate(const model::ServiceModel& service, const model::Operation& op,
                                const nlohmann::json& input) {
  if (op.input < 0) return {};
  return validate_shape(service, op.input, input, "");
}

std::string validation_message(std::span<const Violation> violations) {
  if (violations.empty()) return {};
  std::string out =
      std::to_string(violations.size()) +
      (violations.size() == 1 ? " validation error detected: " : " validation errors detected: ");
  for (std::size_t i = 0; i < violations.size(); ++i) {
    if (i) out += "; ";
    const auto& v = violations[i];
    out += "Value " + v.value + " at '" + v.path + "' failed to satisfy constraint: " + v.rule;
  }
  return out;
}

}  // namespace emu::api::aws
