#pragma once
// FileLock: an exclusive, non-blocking flock(2) on a side file, held for the lifetime of the
// object. The kernel drops it when the process dies (even by kill -9), so a stale lock cannot
// outlive its owner. A separate file keeps it away from SQLite's own POSIX locks on the database
// (closing any descriptor of the database file would drop those).

#include <string>

#include "emulator/core/result.hpp"

namespace emu::store {

class FileLock {
 public:
  /// Creates `path` if needed and locks it; Code::Conflict when another process (or another
  /// FileLock in this one) holds it.
  static Result<FileLock> acquire(const std::string& path);

  FileLock(FileLock&& other) noexcept;
  FileLock& operator=(FileLock&& other) noexcept;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  ~FileLock();

  /// The locked file.
  const std::string& path() const { return path_; }

 private:
  FileLock(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  std::string path_;
  int fd_ = -1;
};

}  // namespace emu::store
