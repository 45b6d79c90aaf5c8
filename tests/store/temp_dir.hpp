#pragma once
// TempDir: a fresh directory under /tmp for one test (mkdtemp), removed with its contents.

#include <stdlib.h>

#include <filesystem>
#include <string>
#include <system_error>

namespace emu::store::test {

class TempDir {
 public:
  /// Creates /tmp/emu-store-XXXXXX; path() is empty if that failed.
  TempDir() {
    std::string pattern = "/tmp/emu-store-XXXXXX";
    if (::mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ignored;
    if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
  }

  /// The directory.
  const std::string& path() const { return path_; }
  /// A path inside the directory.
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace emu::store::test
