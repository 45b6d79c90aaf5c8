#include "emulator/runtime/fd_limit.hpp"

#include <cerrno>
#include <cstring>
#include <string>

namespace emu::runtime {

rlim_t fd_soft_target(const rlimit& current) {
  const rlim_t target = current.rlim_max == RLIM_INFINITY ? kUnlimitedFdTarget : current.rlim_max;
  if (current.rlim_cur == RLIM_INFINITY || current.rlim_cur >= target) return current.rlim_cur;
  return target;
}

Result<FdLimit> raise_fd_limit() {
  rlimit current{};
  if (::getrlimit(RLIMIT_NOFILE, &current) != 0) {
    return Error{Code::Unavailable,
                 std::string("getrlimit(RLIMIT_NOFILE): ") + std::strerror(errno)};
  }
  FdLimit out{current.rlim_cur, current.rlim_cur, current.rlim_max};
  const rlim_t target = fd_soft_target(current);
  if (target == current.rlim_cur) return out;
  rlimit raised = current;
  raised.rlim_cur = target;
  if (::setrlimit(RLIMIT_NOFILE, &raised) != 0) {
    return Error{Code::Unavailable, "setrlimit(RLIMIT_NOFILE, " + std::to_string(target) +
                                        "): " + std::strerror(errno)};
  }
  out.after = target;
  return out;
}

}  // namespace emu::runtime
