#include "emulator/core/fixtures.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cctype>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <ostream>

#include "emulator/core/memory_store.hpp"
#include "tests/store/temp_dir.hpp"
#include "tests/support/sim_time.hpp"

namespace emu::core {
namespace {

struct Env {
  test::SimTime sim;
  MemoryStore store;
  Registry registry{sim.clock, sim.timers, store, RegistryConfig{}, 7};
};

TEST(FixturesTest, TheGameServerFixtureGivesThreeRecords) {
  auto sets = load_fixtures(std::string(EMU_SOURCE_DIR) + "/fixtures/game-server.json");
  ASSERT_TRUE(sets.ok()) << sets.error().message;
  ASSERT_EQ(sets->size(), 1u);
  Env env;
  ASSERT_TRUE(apply_fixture((*sets)[0], env.registry).ok());
  TaskFilter f;
  f.service_dns_name = "game-server.local";
  std::vector<std::string> ips;
  for (const Task* t : env.registry.tasks(f)) ips.push_back(t->ipv4);
  EXPECT_THAT(ips, ::testing::UnorderedElementsAre("10.0.0.1", "10.0.0.2", "10.0.0.3"));
  const Service* s = env.registry.service_by_dns_name("game-server.local");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->ttl, 10u);
  EXPECT_TRUE(s->records.srv);
  EXPECT_FALSE(s->health_check.has_value());  // addresses are data only: no probes
}

TEST(FixturesTest, ApplyingTwiceChangesNothing) {
  auto sets = load_fixtures(std::string(EMU_SOURCE_DIR) + "/fixtures/game-server.json");
  ASSERT_TRUE(sets.ok());
  Env env;
  ASSERT_TRUE(apply_fixture((*sets)[0], env.registry).ok());
  const auto index = env.registry.events().last_index();
  const auto commits = env.store.commits();
  ASSERT_TRUE(apply_fixture((*sets)[0], env.registry).ok());
  EXPECT_EQ(env.registry.tasks().size(), 3u);
  EXPECT_EQ(env.registry.events().last_index(), index);
  EXPECT_EQ(env.store.commits(), commits);
}

struct BadFixture {
  const char* doc;
  const char* error;  // expected full message after "x.json: "
};

class BadFixtureTest : public ::testing::TestWithParam<BadFixture> {};

TEST_P(BadFixtureTest, NamesFilePathAndReason) {
  auto r = parse_fixture(nlohmann::json::parse(GetParam().doc), "fixtures/x.json");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, std::string("fixtures/x.json: ") + GetParam().error);
}

INSTANTIATE_TEST_SUITE_P(
    Table, BadFixtureTest,
    ::testing::Values(
        BadFixture{
            R"({"services": [{"name": "a"}, {"name": "b", "healthCheck": {"type": "http", "retries": 11}}]})",
            "services[1].healthCheck.retries: must be 1..10"},
        BadFixture{R"({"services": [{"name": "a", "tasks": [{"ip": "10.0.0.x"}]}]})",
                   "services[0].tasks[0].ip: not an IPv4 or IPv6 address: \"10.0.0.x\""},
        BadFixture{R"({"services": [{"ttl": 5}]})",
                   "services[0].name: required (a DNS label such as \"game-server\")"},
        BadFixture{R"({"namespaces": [{"name": "bad name"}]})",
                   "namespaces[0].name: invalid character ' ' in DNS label (allowed: a-z 0-9 - _)"},
        BadFixture{
            R"({"servcies": []})",
            "servcies: unknown field (known: namespaces, services, taskDefinitions, ecsServices)"},
        BadFixture{
            R"({"services": [{"name": "a", "records": ["SRV"], "tasks": [{"ip": "10.0.0.1"}]}]})",
            "services[0].tasks[0].port: required (1..65535) because the service publishes SRV "
            "records"}));

TEST(FixturesTest, MissingFileIsAnError) {
  auto r = load_fixtures("/nonexistent/fixtures.json");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "/nonexistent/fixtures.json: no such file or folder");
}

// --- load_fixture_files: what the daemon reads for all its --fixtures paths -----------------

/// One entry of a case's folder.
struct Entry {
  enum Kind { File, Fifo, Socket, Folder, Dangling, Huge };
  std::string name;  ///< relative to the case's folder
  std::string text;  ///< a File's contents
  Kind kind = File;
};

struct LoadCase {
  const char* what;
  std::vector<Entry> entries;
  std::vector<std::string> paths;        ///< "{d}" is the case's folder
  std::string error;                     ///< the whole message ("{d}" as above); empty: loads
  std::vector<std::string> loaded = {};  ///< the files loaded, in order, when it loads
};

void PrintTo(const LoadCase& c, std::ostream* os) { *os << c.what; }

std::string in_dir(std::string text, const std::string& dir) {
  for (auto at = text.find("{d}"); at != std::string::npos; at = text.find("{d}", at))
    text.replace(at, 3, dir);
  return text;
}

const char* const kGameServer = R"({"services": [{"name": "game-server", "ttl": 10}]})";

const LoadCase kLoadCases[] = {
    // the same name twice: the last definition would win silently (its TTL, its probe)
    {"a service in two files",
     {{"a.json", R"({"services": [{"name": "x"}, {"name": "y"}, {"name": "game-server"}]})"},
      {"b.json", kGameServer}},
     {"{d}/a.json", "{d}/b.json"},
     "{d}/b.json: services[0]: service game-server.local is also defined in {d}/a.json: "
     "services[2]"},
    {"a service twice in one file",
     {{"a.json", R"({"services": [{"name": "web"}, {"name": "web", "namespace": "local"}]})"}},
     {"{d}/a.json"},
     "{d}/a.json: services[1]: service web.local is also defined in {d}/a.json: services[0]"},
    {"a service whose names differ only in case",
     {{"a.json", R"({"services": [{"name": "web", "namespace": "demo.local"}]})"},
      {"b.json", R"({"services": [{"name": "WEB", "namespace": "Demo.Local"}]})"}},
     {"{d}"},
     "{d}/b.json: services[0]: service web.demo.local is also defined in {d}/a.json: "
     "services[0]"},
    {"a namespace in two files",
     {{"a.json", R"({"namespaces": [{"name": "demo"}]})"},
      {"b.json", R"({"namespaces": [{"name": "other"}, {"name": "Demo."}]})"}},
     {"{d}/a.json", "{d}/b.json"},
     "{d}/b.json: namespaces[1]: namespace demo is also defined in {d}/a.json: namespaces[0]"},
    {"one name in two namespaces is two services",
     {{"a.json", R"({"services": [{"name": "web"}]})"},
      {"b.json", R"({"services": [{"name": "web", "namespace": "demo"}]})"}},
     {"{d}/a.json", "{d}/b.json"},
     "",
     {"{d}/a.json", "{d}/b.json"}},
    // only regular files are read: nothing waits on a FIFO or reads /dev/zero into memory
    {"a character device",
     {},
     {"/dev/zero"},
     "/dev/zero: not a regular file (a character device); fixtures are JSON files or folders of "
     "them"},
    {"a FIFO",
     {{"fifo.json", "", Entry::Fifo}},
     {"{d}/fifo.json"},
     "{d}/fifo.json: not a regular file (a FIFO); fixtures are JSON files or folders of them"},
    {"a socket",
     {{"sock.json", "", Entry::Socket}},
     {"{d}/sock.json"},
     "{d}/sock.json: not a regular file (a socket); fixtures are JSON files or folders of them"},
    {"a FIFO in a folder",
     {{"a.json", kGameServer}, {"b.json", "", Entry::Fifo}},
     {"{d}"},
     "{d}/b.json: not a regular file (a FIFO); fixtures are JSON files or folders of them"},
    {"a folder named *.json in a folder",
     {{"a.json", "", Entry::Folder}},
     {"{d}"},
     "{d}/a.json: not a regular file (a folder); fixtures are JSON files or folders of them"},
    {"a dangling symlink in a folder",
     {{"a.json", "", Entry::Dangling}},
     {"{d}"},
     "{d}/a.json: cannot read: No such file or directory"},
    {"a file over the size limit",
     {{"big.json", "", Entry::Huge}},
     {"{d}/big.json"},
     "{d}/big.json: larger than 16 MiB, the limit for a fixture file"},
    {"a missing path", {}, {"{d}/none.json"}, "{d}/none.json: no such file or folder"},
    {"a folder: its *.json files in name order, nothing else",
     {{"b.json", kGameServer},
      {"a.json", R"({"services": [{"name": "web"}]})"},
      {"notes.txt", "not json"},
      {"sub", "", Entry::Folder}},
     {"{d}"},
     "",
     {"{d}/a.json", "{d}/b.json"}},
    {"a malformed file is named",
     {{"a.json", "{"}},
     {"{d}/a.json"},
     "{d}/a.json: body: malformed JSON: *"},
};

class LoadFixtureFilesTest : public ::testing::TestWithParam<LoadCase> {};

TEST_P(LoadFixtureFilesTest, LoadsOrNamesTheFileAndTheReason) {
  const LoadCase& c = GetParam();
  store::test::TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  std::vector<int> sockets;
  for (const Entry& e : c.entries) {
    const std::string path = dir.file(e.name);
    switch (e.kind) {
      case Entry::File:
        std::ofstream(path) << e.text;
        break;
      case Entry::Fifo:
        ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
        break;
      case Entry::Socket: {
        const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
        ASSERT_GE(fd, 0);
        sockets.push_back(fd);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        ASSERT_LT(path.size(), sizeof addr.sun_path);
        std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
        ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
        break;
      }
      case Entry::Folder:
        std::filesystem::create_directory(path);
        break;
      case Entry::Dangling:
        std::filesystem::create_symlink(dir.file("nowhere"), path);
        break;
      case Entry::Huge:  // sparse: no 16 MiB are written
        std::ofstream{path};
        std::filesystem::resize_file(path, kMaxFixtureBytes + 1);
        break;
    }
  }
  std::vector<std::string> paths;
  for (const auto& p : c.paths) paths.push_back(in_dir(p, dir.path()));

  auto sets = load_fixture_files(paths);
  for (int fd : sockets) ::close(fd);
  if (!c.error.empty()) {
    ASSERT_FALSE(sets.ok());
    EXPECT_EQ(sets.error().code, Code::InvalidArgument);
    const std::string want = in_dir(c.error, dir.path());
    if (want.back() == '*')
      EXPECT_THAT(sets.error().message, ::testing::StartsWith(want.substr(0, want.size() - 1)));
    else
      EXPECT_EQ(sets.error().message, want);
    return;
  }
  ASSERT_TRUE(sets.ok()) << sets.error().message;
  std::vector<std::string> loaded, expected;
  for (const auto& set : *sets) loaded.push_back(set.file);
  for (const auto& f : c.loaded) expected.push_back(in_dir(f, dir.path()));
  EXPECT_EQ(loaded, expected);
}

INSTANTIATE_TEST_SUITE_P(Table, LoadFixtureFilesTest, ::testing::ValuesIn(kLoadCases),
                         [](const ::testing::TestParamInfo<LoadCase>& info) {
                           std::string name;  // "a FIFO in a folder" -> "aFIFOInAFolder"
                           bool upper = false;
                           for (const char* p = info.param.what; *p; ++p) {
                             if (std::isalnum(static_cast<unsigned char>(*p))) {
                               name += upper ? static_cast<char>(std::toupper(*p)) : *p;
                               upper = false;
                             } else {
                               upper = true;
                             }
                           }
                           return name;
                         });

}  // namespace
}  // namespace emu::core
