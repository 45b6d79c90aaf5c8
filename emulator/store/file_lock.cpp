#include "emulator/store/file_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace emu::store {

Result<FileLock> FileLock::acquire(const std::string& path) {
  // O_CLOEXEC: exec'd children (probes, docker) must not inherit and keep the lock alive.
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return Error{Code::Unavailable,
                 "cannot create lock file " + path + ": " + std::strerror(errno)};
  }
  int rc;
  do {
    rc = ::flock(fd, LOCK_EX | LOCK_NB);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    const int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK) return Error{Code::Conflict, "lock file " + path + " is held"};
    return Error{Code::Unavailable, "cannot lock " + path + ": " + std::strerror(err)};
  }
  return FileLock{path, fd};
}

FileLock::FileLock(FileLock&& other) noexcept
    : path_(std::move(other.path_)), fd_(std::exchange(other.fd_, -1)) {}

FileLock& FileLock::operator=(FileLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    path_ = std::move(other.path_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

// Closing the only descriptor releases the flock; the file stays (unlinking it would race with
// a concurrent acquire that already opened it).
FileLock::~FileLock() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace emu::store
