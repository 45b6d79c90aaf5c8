// The log line formats: whatever a value holds (a StopTask reason, a service name, a Docker
// message), the text format stays one line per event with the fields the daemon wrote.
#include "emulator/log/log.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

namespace emu::log {
namespace {

constexpr std::string_view kTime = "2026-12-02T18:00:00.000Z";

struct EscapeCase {
  std::string in;
  bool quote;
  std::string out;
};

TEST(LogEscape, ControlCharactersBackslashesAndQuotes) {
  const EscapeCase cases[] = {
      {"plain", false, "plain"},
      {"plain", true, "plain"},
      {"a\nb", false, "a\\nb"},
      {"a\r\nb", false, "a\\r\\nb"},
      {"tab\there", false, "tab\\there"},
      {std::string("nul\0x", 5), false, "nul\\x00x"},
      {"bell\x07 del\x7f", false, "bell\\x07 del\\x7f"},
      {"esc\x1b[31m", false, "esc\\x1b[31m"},
      {"back\\slash", false, "back\\\\slash"},
      {"two words", true, "\"two words\""},
      {"k=v", true, "\"k=v\""},
      {"say \"hi\"", true, "\"say \\\"hi\\\"\""},
      {"say \"hi\"", false, "say \"hi\""},
      {"", true, "\"\""},
      {"utf-8 \xc3\xa9", false, "utf-8 \xc3\xa9"},  // bytes >= 0x80 pass unchanged
  };
  for (const auto& c : cases) {
    EXPECT_EQ(escape_text(c.in, c.quote), c.out) << "input: " << c.in;
  }
}

TEST(LogFormat, TextLineIsOneLineWhateverTheValues) {
  // The reproduction: a StopTask reason with CR/LF that would forge a whole event line.
  const std::string reason =
      "bye\r\n2026-12-02T18:00:01.000Z INFO events: task x STOPPED (forged) type=TaskStopped";
  const std::string line =
      format_line(Level::Info, Format::Text, kTime, "events", "task 3f2c STOPPED (" + reason + ")",
                  {{"type", "TaskStopped"}, {"reason", reason}});
  EXPECT_EQ(line.find('\n'), std::string::npos);
  EXPECT_EQ(line.find('\r'), std::string::npos);
  EXPECT_EQ(line.rfind(std::string(kTime) + " INFO events: task 3f2c STOPPED (bye\\r\\n", 0), 0u)
      << line;
  // The forged "type=" stays inside the quoted reason: the line has exactly the fields written.
  EXPECT_NE(line.find(" type=TaskStopped reason=\"bye\\r\\n2026"), std::string::npos) << line;
  EXPECT_EQ(line.substr(line.size() - 1), "\"");
}

TEST(LogFormat, TextFieldsAndComponent) {
  EXPECT_EQ(
      format_line(Level::Warn, Format::Text, kTime, "http", "accept failed",
                  {{"error", "Too many open files"}, {"port", "9080"}}),
      std::string(kTime) + " WARN http: accept failed error=\"Too many open files\" port=9080");
  EXPECT_EQ(format_line(Level::Error, Format::Text, kTime, "a\nb", "m", {{"k\n", "v"}}),
            std::string(kTime) + " ERROR a\\nb: m k\\n=v");
}

TEST(LogFormat, JsonLineIsOneValidObject) {
  const std::string line = format_line(Level::Info, Format::Json, kTime, "events", "a\nb\x01",
                                       {{"reason", "x\r\ny"}, {"bad", "\xff\xfe"}});
  EXPECT_EQ(line.find('\n'), std::string::npos);
  const auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j.at("msg"), "a\nb\x01");
  EXPECT_EQ(j.at("reason"), "x\r\ny");
  EXPECT_EQ(j.at("level"), "INFO");
  EXPECT_TRUE(j.at("bad").is_string());  // invalid UTF-8 is replaced, never a broken line
}

}  // namespace
}  // namespace emu::log
