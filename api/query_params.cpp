#include "api/query_params.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>

#include "emulator/core/native_codec.hpp"

namespace emu::api {

namespace {

bool all_space(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return std::isspace(static_cast<unsigned char>(c)); });
}

}  // namespace

Result<std::uint64_t> uint_param(const RequestTarget& target, std::string_view name,
                                 std::optional<std::uint64_t> fallback, std::uint64_t max) {
  const auto text = target.param(name);
  const std::string range = "must be an integer 0.." + std::to_string(max);
  if (!text) {
    if (fallback) return *fallback;
    return invalid_field(std::string(name), "required (" + range + ")");
  }
  std::uint64_t value = 0;
  const char* first = text->data();
  const char* last = first + text->size();
  auto [ptr, ec] = std::from_chars(first, last, value);
  if (text->empty() || ec != std::errc{} || ptr != last || value > max) {
    return invalid_field(std::string(name), range + ", got '" + *text + "'");
  }
  return value;
}

Result<Duration> duration_param(const RequestTarget& target, std::string_view name,
                                Duration fallback, Duration max) {
  const auto text = target.param(name);
  if (!text) return fallback;
  const std::string path(name);
  const std::string range = "must be a duration 0.." + core::native::format_duration(max) +
                            " (\"500ms\", \"2s\", \"1m\")";
  if (text->empty() || all_space(*text) || text->front() == '-') {
    return invalid_field(path, range + ", got '" + *text + "'");
  }
  // A bare number means seconds, as in bodies; anything else goes to the codec as a string.
  nlohmann::json value = *text;
  double seconds = 0;
  auto [ptr, ec] = std::from_chars(text->data(), text->data() + text->size(), seconds);
  if (ec == std::errc{} && ptr == text->data() + text->size()) value = seconds;
  auto parsed = core::native::parse_duration(value, path);
  if (!parsed) return parsed.error();
  if (parsed->count() < 0 || *parsed > max) {
    return invalid_field(path, range + ", got '" + *text + "'");
  }
  return *parsed;
}

Result<std::string> dns_type_param(const RequestTarget& target, std::string_view name,
                                   std::string_view fallback) {
  static constexpr std::array<std::string_view, 10> kTypes = {"A",   "AAAA",  "SRV", "SOA", "NS",
                                                              "ANY", "CNAME", "TXT", "MX",  "PTR"};
  std::string type(target.param(name).value_or(std::string(fallback)));
  std::transform(type.begin(), type.end(), type.begin(), [](char c) {
    return static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  });
  if (std::find(kTypes.begin(), kTypes.end(), type) == kTypes.end()) {
    return invalid_field(
        std::string(name),
        "must be one of A, AAAA, SRV, SOA, NS, ANY, CNAME, TXT, MX, PTR, got '" + type + "'");
  }
  return type;
}

std::optional<std::string> lookup_name_error(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  if (name.empty()) return "must not be empty";
  if (name.size() > 253) return "must be at most 253 characters";
  std::size_t start = 0;
  while (start <= name.size()) {
    auto end = name.find('.', start);
    if (end == std::string_view::npos) end = name.size();
    const auto label = name.substr(start, end - start);
    if (label.empty()) return "has an empty label";
    if (label.size() > 63) return "has a label longer than 63 characters";
    for (char c : label) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '*') {
        return "has an invalid character in '" + std::string(label) + "'";
      }
    }
    start = end + 1;
  }
  return std::nullopt;
}

Result<nlohmann::json> body_object(const Request& req) {
  if (all_space(req.body())) return nlohmann::json::object();
  try {
    auto parsed = core::native::parse_json(req.body());
    if (!parsed) return parsed.error();  // "body: malformed JSON: ..."
    if (!parsed->is_object()) return invalid_field("body", "must be a JSON object");
    return std::move(parsed.value());
  } catch (const nlohmann::json::exception& e) {
    // parse_json re-parses to describe the error and lets out_of_range (1e400) escape.
    return invalid_field("body", std::string("malformed JSON: ") + e.what());
  }
}

}  // namespace emu::api
