#include "emulator/log/log.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <nlohmann/json.hpp>

namespace emu::log {
namespace {
std::atomic<int> g_level{static_cast<int>(Level::Info)};
std::atomic<int> g_format{static_cast<int>(Format::Text)};
std::mutex g_mutex;

const char* name(Level l) {
  switch (l) {
    case Level::Debug:
      return "DEBUG";
    case Level::Info:
      return "INFO";
    case Level::Warn:
      return "WARN";
    case Level::Error:
      return "ERROR";
  }
  return "?";
}

std::string timestamp() {
  const auto now = std::chrono::system_clock::now();
  const auto secs = std::chrono::system_clock::to_time_t(now);
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}
}  // namespace

void configure(Level level, Format format) {
  g_level = static_cast<int>(level);
  g_format = static_cast<int>(format);
}

bool parse_level(std::string_view s, Level& out) {
  if (s == "debug")
    out = Level::Debug;
  else if (s == "info")
    out = Level::Info;
  else if (s == "warn" || s == "warning")
    out = Level::Warn;
  else if (s == "error")
    out = Level::Error;
  else
    return false;
  return true;
}

bool parse_format(std::string_view s, Format& out) {
  if (s == "text")
    out = Format::Text;
  else if (s == "json")
    out = Format::Json;
  else
    return false;
  return true;
}

bool enabled(Level level) {
  return static_cast<int>(level) >= g_level.load(std::memory_order_relaxed);
}

std::string escape_text(std::string_view value, bool quote_if_needed) {
  // Every byte below 0x20 and DEL is escaped, so a value can never start a line of its own;
  // the backslash too, so the escaping stays unambiguous. Field values that hold a space, a
  // quote or '=' are quoted (logfmt), so a value cannot forge a field of its own either.
  static constexpr char kHex[] = "0123456789abcdef";
  const bool quote =
      quote_if_needed && (value.empty() || value.find_first_of(" \"=") != std::string_view::npos);
  std::string out;
  out.reserve(value.size() + 2);
  if (quote) out += '"';
  for (const char ch : value) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += quote ? "\\\"" : "\"";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out += "\\x";
          out += kHex[c >> 4];
          out += kHex[c & 0xf];
        } else {
          out += ch;
        }
    }
  }
  if (quote) out += '"';
  return out;
}

std::string format_line(Level level, Format format, std::string_view time,
                        std::string_view component, std::string_view message, Fields fields) {
  std::string line;
  if (format == Format::Json) {
    nlohmann::json j;
    j["time"] = time;
    j["level"] = name(level);
    j["component"] = component;
    j["msg"] = message;
    for (const auto& [k, v] : fields) j[std::string(k)] = v;
    line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } else {
    line = time;
    line += ' ';
    line += name(level);
    line += ' ';
    line += escape_text(component, false);
    line += ": ";
    line += escape_text(message, false);
    for (const auto& [k, v] : fields) {
      line += ' ';
      line += escape_text(k, false);
      line += '=';
      line += escape_text(v, true);
    }
  }
  return line;
}

void write(Level level, std::string_view component, std::string_view message, Fields fields) {
  std::string line = format_line(level, static_cast<Format>(g_format.load()), timestamp(),
                                 component, message, fields);
  line += '\n';
  std::lock_guard lock(g_mutex);
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace emu::log
