#include "emulator/store/file_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <sstream>
#include <utility>
#include <vector>

namespace emu::store {
namespace {

/// A file this process holds a FileLock on, and the descriptors parked until it is released.
struct Held {
  dev_t dev;
  ino_t ino;
  std::vector<int> parked;
};

std::mutex g_held_mutex;
std::vector<Held> g_held;  // a handful at most: one per open state file

Held* find_held(dev_t dev, ino_t ino) {
  auto it = std::find_if(g_held.begin(), g_held.end(),
                         [&](const Held& h) { return h.dev == dev && h.ino == ino; });
  return it == g_held.end() ? nullptr : &*it;
}

/// The pid holding an flock on (dev, ino), from /proc/locks, e.g.
/// `1: FLOCK  ADVISORY  WRITE 11160 fe:00:10952779 0 EOF` (device numbers in hex, the inode in
/// decimal; waiters are listed with "->" and skipped). Nullopt when the kernel does not say.
std::optional<pid_t> flock_holder(dev_t dev, ino_t ino) {
  std::ifstream in("/proc/locks");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string id, type, mode, access, where;
    long pid = 0;
    if (!(fields >> id >> type) || type != "FLOCK") continue;
    if (!(fields >> mode >> access >> pid >> where)) continue;
    unsigned major_no = 0, minor_no = 0;
    unsigned long long inode = 0;
    if (std::sscanf(where.c_str(), "%x:%x:%llu", &major_no, &minor_no, &inode) != 3) continue;
    if (inode == ino && major_no == major(dev) && minor_no == minor(dev) && pid > 0)
      return static_cast<pid_t>(pid);
  }
  return std::nullopt;
}

Error held_by(std::optional<pid_t> pid, const std::string& path, const std::string& what) {
  std::string message = pid ? "another ecs-emulator (pid " + std::to_string(*pid) + ")"
                            : std::string("another ecs-emulator");
  message += " holds " + what + " " + path;
  // Through a symlink or "..", say which file it really is.
  std::error_code ec;
  const auto real = std::filesystem::canonical(path, ec);
  if (!ec && real.string() != path) message += " (" + real.string() + ")";
  return Error{Code::Conflict, message};
}

}  // namespace

Result<FileLock> FileLock::acquire(const std::string& path, const std::string& what) {
  // O_RDONLY: flock needs no write access, and a write-protected file then reaches SQLite, whose
  // refusal is clearer. O_NONBLOCK: opening a FIFO must not wait for a writer. O_CLOEXEC: exec'd
  // children (probes, docker) must not inherit the descriptor and keep the lock alive.
  constexpr int kFlags = O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;
  bool created = false;
  int fd = ::open(path.c_str(), kFlags);
  if (fd < 0 && errno == ENOENT) {
    fd = ::open(path.c_str(), kFlags | O_CREAT, 0644);  // SQLite's own mode for a new database
    created = fd >= 0;
  }
  if (fd < 0) {
    return Error{Code::Unavailable,
                 "cannot open " + what + " " + path + ": " + std::strerror(errno)};
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return Error{Code::Unavailable, "cannot stat " + what + " " + path + ": " + std::strerror(err)};
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);  // safe: no FileLock (hence no SQLite connection of ours) is on a non-regular file
    return Error{Code::InvalidArgument, what + " " + path + " is not a regular file"};
  }

  std::lock_guard guard(g_held_mutex);
  if (Held* held = find_held(st.st_dev, st.st_ino)) {
    // Held in this process under some name: closing fd now would drop the holder's SQLite locks.
    held->parked.push_back(fd);
    return held_by(::getpid(), path, what);
  }
  int rc;
  do {
    rc = ::flock(fd, LOCK_EX | LOCK_NB);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    const int err = errno;
    ::close(fd);  // another process holds it (or flock failed): this process has no locks on it
    if (err == EWOULDBLOCK) return held_by(flock_holder(st.st_dev, st.st_ino), path, what);
    return Error{Code::Unavailable, "cannot lock " + what + " " + path + ": " + std::strerror(err)};
  }
  g_held.push_back({st.st_dev, st.st_ino, {}});
  return FileLock{path, fd, st.st_dev, st.st_ino, created, static_cast<std::uint64_t>(st.st_size)};
}

FileLock::FileLock(FileLock&& other) noexcept
    : path_(std::move(other.path_)),
      fd_(std::exchange(other.fd_, -1)),
      dev_(other.dev_),
      ino_(other.ino_),
      created_(other.created_),
      size_(other.size_) {}

FileLock& FileLock::operator=(FileLock&& other) noexcept {
  if (this != &other) {
    release();
    path_ = std::move(other.path_);
    fd_ = std::exchange(other.fd_, -1);
    dev_ = other.dev_;
    ino_ = other.ino_;
    created_ = other.created_;
    size_ = other.size_;
  }
  return *this;
}

FileLock::~FileLock() { release(); }

// Closing the only descriptor releases the flock; the file stays. Parked descriptors go at the
// same time: by now the holder's SQLite connection is closed, so there are no POSIX locks to lose.
void FileLock::release() {
  if (fd_ < 0) return;
  std::lock_guard guard(g_held_mutex);
  if (Held* held = find_held(dev_, ino_)) {
    for (int parked : held->parked) ::close(parked);
    g_held.erase(g_held.begin() + (held - g_held.data()));
  }
  ::close(std::exchange(fd_, -1));
}

}  // namespace emu::store
