#pragma once
// One log line per event, text or JSON (--log-format), to stderr. Core code does not log: it
// returns values and events; the edges (servers, runtime) log once with context.

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace emu::log {

enum class Level { Debug, Info, Warn, Error };
enum class Format { Text, Json };

/// Sets the minimum level and the format (from --log-level / --log-format).
void configure(Level level, Format format);
/// Parses "debug|info|warn|error".
bool parse_level(std::string_view s, Level& out);
/// Parses "text|json".
bool parse_format(std::string_view s, Format& out);
bool enabled(Level level);

/// Structured key/value fields appended to a line.
using Fields = std::initializer_list<std::pair<std::string_view, std::string_view>>;

/// Escapes control characters (\n, \r, \t, \xHH) and backslashes for the text format; with
/// `quote_if_needed`, a value that is empty or holds a space, '"' or '=' is quoted (logfmt).
std::string escape_text(std::string_view value, bool quote_if_needed);
/// One line without its newline, in the given format (text fields escaped; JSON by its encoder).
std::string format_line(Level level, Format format, std::string_view time,
                        std::string_view component, std::string_view message, Fields fields);

/// Writes one line: `2026-11-29T16:00:00.123Z INFO component: message key=value ...`
void write(Level level, std::string_view component, std::string_view message, Fields fields = {});

inline void debug(std::string_view c, std::string_view m, Fields f = {}) {
  if (enabled(Level::Debug)) write(Level::Debug, c, m, f);
}
inline void info(std::string_view c, std::string_view m, Fields f = {}) {
  if (enabled(Level::Info)) write(Level::Info, c, m, f);
}
inline void warn(std::string_view c, std::string_view m, Fields f = {}) {
  if (enabled(Level::Warn)) write(Level::Warn, c, m, f);
}
inline void error(std::string_view c, std::string_view m, Fields f = {}) {
  write(Level::Error, c, m, f);
}

}  // namespace emu::log
