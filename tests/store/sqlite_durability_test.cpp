// Durability under kill -9: a child process commits batches in a loop and reports each id on a
// pipe only after commit() returned ok. The parent kills it with SIGKILL at a random moment,
// reopens the file and checks that every acknowledged id is there and the file is sound.
// Several rounds on the same file, so each round also recovers the WAL the previous one left.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <random>
#include <set>
#include <string>

#include "emulator/store/sqlite_store.hpp"
#include "tests/store/store_helpers.hpp"
#include "tests/store/temp_dir.hpp"

namespace emu::store {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr int kRounds = 8;
constexpr auto kTestBudget = 30s;    // all rounds together
constexpr auto kReadDeadline = 10s;  // one wait for an acknowledgement or EOF

std::string task_id(int round, std::uint64_t seq) {
  return "r" + std::to_string(round) + "-" + std::to_string(seq);
}

// The child: never returns. Exit codes tell the parent what went wrong.
[[noreturn]] void run_child(const std::string& path, int round, int ack_fd) {
  auto store = SqliteStore::open(path);
  if (!store) _exit(2);
  for (std::uint64_t seq = 0;; ++seq) {
    test::Batch batch;
    // one to three tasks per batch; the acknowledged id is the last one
    const std::uint64_t first = seq;
    const std::uint64_t extra = seq % 3;
    for (std::uint64_t k = 0; k < extra; ++k) {
      const std::string id = task_id(round, first) + "-" + std::to_string(k);
      batch.upsert("task", id, test::task_body(id, 300));
    }
    const std::string id = task_id(round, seq);
    batch.upsert("task", id, test::task_body(id, 300));
    batch.index(static_cast<std::uint64_t>(round) * 1000000 + seq + 1);
    if (!(*store)->commit(batch)) _exit(3);
    // acknowledged only now, as the daemon answers 201 only after commit()
    if (::write(ack_fd, &seq, sizeof seq) != static_cast<ssize_t>(sizeof seq)) _exit(4);
  }
}

// Reads whole 8-byte acknowledgements into `acked` until `want` of them arrived this round, EOF,
// or the deadline. Returns false on EOF or deadline.
bool read_acks(int fd, int round, std::size_t want, std::size_t& got, std::set<std::string>& acked,
               std::uint64_t& max_index, std::string& pending, Clock::time_point deadline) {
  char buffer[8 * 256];
  while (got < want) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left <= 0ms) return false;
    pollfd pfd{fd, POLLIN, 0};
    const int ready = ::poll(&pfd, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return false;
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;  // EOF: the child is gone
    pending.append(buffer, static_cast<std::size_t>(n));
    while (pending.size() >= sizeof(std::uint64_t)) {
      std::uint64_t seq;
      std::memcpy(&seq, pending.data(), sizeof seq);
      pending.erase(0, sizeof seq);
      acked.insert(task_id(round, seq));
      max_index = std::max(max_index, static_cast<std::uint64_t>(round) * 1000000 + seq + 1);
      ++got;
    }
  }
  return true;
}

TEST(SqliteDurabilityTest, AcknowledgedCommitsSurviveKill9) {
  test::TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  const std::string path = dir.file("state.db");
  const unsigned seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  std::uniform_int_distribution<std::size_t> kill_after(1, 400);

  std::set<std::string> acked;
  std::uint64_t max_index = 0;
  const auto budget_end = Clock::now() + kTestBudget;
  int rounds = 0;
  for (int round = 0; round < kRounds && Clock::now() < budget_end; ++round, ++rounds) {
    int fds[2];
    ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0) << std::strerror(errno);
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0) << std::strerror(errno);
    if (pid == 0) {
      ::close(fds[0]);
      run_child(path, round, fds[1]);
    }
    ::close(fds[1]);

    // let it acknowledge a random number of commits, then kill it wherever it is
    const std::size_t want = kill_after(rng);
    std::size_t got = 0;
    std::string pending;
    const bool reached = read_acks(fds[0], round, want, got, acked, max_index, pending,
                                   Clock::now() + kReadDeadline);
    ::kill(pid, SIGKILL);
    // what it wrote before dying was acknowledged too: drain to EOF
    read_acks(fds[0], round, SIZE_MAX, got, acked, max_index, pending,
              Clock::now() + kReadDeadline);
    ::close(fds[0]);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(reached) << "round " << round << ": only " << got << " of " << want
                         << " acknowledgements; child status " << status;
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        << "child exited by itself, status " << status;
    EXPECT_TRUE(pending.empty()) << "a torn acknowledgement";

    // the kill released the lock; every acknowledged id is back and the file is sound
    auto store = SqliteStore::open(path);
    ASSERT_TRUE(store.ok()) << store.error().message;
    auto contents = (*store)->load();
    ASSERT_TRUE(contents.ok()) << contents.error().message;
    std::set<std::string> present;
    for (const auto& e : contents->entities) present.insert(e.id);
    std::size_t missing = 0;
    for (const auto& id : acked) {
      if (!present.count(id)) ++missing;
    }
    EXPECT_EQ(missing, 0u) << "round " << round << ": acknowledged ids lost";
    EXPECT_GE(contents->event_index, max_index);
    auto report = (*store)->integrity_check();
    ASSERT_TRUE(report.ok()) << report.error().message;
    EXPECT_EQ(*report, "ok");
  }
  EXPECT_GE(rounds, 2);
  RecordProperty("acknowledged", std::to_string(acked.size()));
  RecordProperty("rounds", std::to_string(rounds));
}

}  // namespace
}  // namespace emu::store
