// store_bench: commits per second with synchronous=NORMAL and FULL (one task upsert plus an
// event index per commit, as one registration), and load() time for 10,000 tasks.
// Usage: store_bench [directory] (default /tmp); the files are removed afterwards.

#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "emulator/store/sqlite_store.hpp"
#include "tests/store/store_helpers.hpp"

namespace {

using emu::store::SqliteStore;
using Clock = std::chrono::steady_clock;

// CPU time of this thread: unlike wall time, not inflated by other processes on a busy machine.
double cpu_ms() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

void remove_state(const std::string& path) {
  for (const char* suffix : {"", "-wal", "-shm", ".lock"}) std::filesystem::remove(path + suffix);
}

int commit_rate(const std::string& path, SqliteStore::Sync sync, const char* name, int commits) {
  remove_state(path);
  auto store = SqliteStore::open(path, sync);
  if (!store) {
    std::fprintf(stderr, "%s\n", store.error().message.c_str());
    return 1;
  }
  const auto start = Clock::now();
  for (int i = 0; i < commits; ++i) {
    const std::string id = "task-" + std::to_string(i);
    emu::store::test::Batch batch;
    batch.upsert("task", id, emu::store::test::task_body(id)).index(i + 1);
    if (auto r = (*store)->commit(batch); !r) {
      std::fprintf(stderr, "%s\n", r.error().message.c_str());
      return 1;
    }
  }
  const double s = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("commit  synchronous=%-6s %6d commits in %7.3f s = %9.0f commits/s (%.1f us each)\n",
              name, commits, s, commits / s, s * 1e6 / commits);
  store->reset();
  remove_state(path);
  return 0;
}

int load_time(const std::string& path, int tasks) {
  remove_state(path);
  {
    auto store = SqliteStore::open(path);
    if (!store) return 1;
    emu::store::test::Batch batch;
    for (int i = 0; i < tasks; ++i) {
      const std::string id = "task-" + std::to_string(i);
      batch.upsert("task", id, emu::store::test::task_body(id));
    }
    if (!(*store)->commit(batch.index(tasks))) return 1;
  }
  std::vector<double> open_ms, load_ms, load_cpu_ms;
  for (int run = 0; run < 7; ++run) {
    const auto t0 = Clock::now();
    auto store = SqliteStore::open(path);
    const auto t1 = Clock::now();
    const double c1 = cpu_ms();
    auto contents = (*store)->load();
    const double c2 = cpu_ms();
    const auto t2 = Clock::now();
    load_cpu_ms.push_back(c2 - c1);
    if (!contents || contents->entities.size() != static_cast<std::size_t>(tasks)) return 1;
    open_ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    load_ms.push_back(std::chrono::duration<double, std::milli>(t2 - t1).count());
  }
  std::sort(open_ms.begin(), open_ms.end());
  std::sort(load_ms.begin(), load_ms.end());
  std::sort(load_cpu_ms.begin(), load_cpu_ms.end());
  std::printf(
      "load    %d tasks (~600 B JSON each, %.1f MB file): open %.2f ms, load %.2f ms "
      "(median of 7; min %.2f, max %.2f); load CPU time %.2f ms\n",
      tasks, std::filesystem::file_size(path) / 1e6, open_ms[3], load_ms[3], load_ms[0], load_ms[6],
      load_cpu_ms[3]);
  remove_state(path);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string dir = argc > 1 ? argv[1] : "/tmp";
  const std::string path = dir + "/emu-store-bench-" + std::to_string(::getpid()) + ".db";
  int rc = 0;
  rc |= commit_rate(path, SqliteStore::Sync::Normal, "NORMAL", 20000);
  rc |= commit_rate(path, SqliteStore::Sync::Full, "FULL", 2000);
  rc |= load_time(path, 10000);
  return rc;
}
