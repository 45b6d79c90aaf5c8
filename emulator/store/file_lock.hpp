#pragma once
// FileLock: an exclusive, non-blocking flock(2) on a file itself (its inode), held for the
// lifetime of the object. Locking the inode rather than a "<path>.lock" side file means every
// way of naming the file (a symlink, "dir/../file", a hard link) meets the same lock (SPEC
// section 12: one daemon per database, whatever the path). The kernel drops it when the process
// dies (even by kill -9), so a stale lock cannot outlive its owner.
//
// flock locks and the POSIX (fcntl) locks SQLite takes on the same file are independent on Linux,
// but closing *any* descriptor of the file drops all of this process's POSIX locks on it. So the
// descriptor stays open as long as the lock is held (release it only after SQLite closed its
// connection), and a descriptor opened for a file this process already holds is not closed on a
// Conflict either: it is parked with the holder and closed when the holder releases.

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "emulator/core/result.hpp"

namespace emu::store {

class FileLock {
 public:
  /// Opens `path` (creating an empty file if there is none) and locks it. `what` names the file in
  /// errors ("state file"). Code::Conflict, naming the holder's pid when the kernel tells it, when
  /// another process or another FileLock in this one holds the same file under any name;
  /// Code::InvalidArgument when it is not a regular file (a FIFO is never blocked on);
  /// Code::Unavailable when it cannot be opened.
  static Result<FileLock> acquire(const std::string& path, const std::string& what);

  FileLock(FileLock&& other) noexcept;
  FileLock& operator=(FileLock&& other) noexcept;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  ~FileLock();

  /// The path given to acquire().
  const std::string& path() const { return path_; }
  /// True when acquire() created the file (it did not exist).
  bool created() const { return created_; }
  /// The file's size when it was locked.
  std::uint64_t size() const { return size_; }

 private:
  FileLock(std::string path, int fd, dev_t dev, ino_t ino, bool created, std::uint64_t size)
      : path_(std::move(path)), fd_(fd), dev_(dev), ino_(ino), created_(created), size_(size) {}
  void release();

  std::string path_;
  int fd_ = -1;
  dev_t dev_ = 0;
  ino_t ino_ = 0;
  bool created_ = false;
  std::uint64_t size_ = 0;
};

}  // namespace emu::store
