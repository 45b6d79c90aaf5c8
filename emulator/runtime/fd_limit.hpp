#pragma once
// raise_fd_limit: at startup, lifts the soft RLIMIT_NOFILE to the hard limit. Every HTTP
// connection, DNS TCP connection and probe holds a descriptor; the common soft limit of 1024 is
// a select()-era default that a flood of idle connections exhausts, and an EMFILE must not turn
// into failed probes (SPEC 12). The daemon uses epoll (Asio), so descriptors above 1024 are fine.
// Go's runtime and systemd's services do the same.

#include <sys/resource.h>

#include <cstdint>

#include "emulator/core/result.hpp"

namespace emu::runtime {

/// What raise_fd_limit found and did.
struct FdLimit {
  std::uint64_t before = 0;  ///< the soft limit at startup
  std::uint64_t after = 0;   ///< the soft limit now (== before when nothing changed)
  std::uint64_t hard = 0;    ///< the hard limit (RLIM_INFINITY as is)
  bool raised() const { return after > before; }
};

/// Where the soft limit goes: the hard limit. An unlimited hard limit (not on Linux, where it is
/// at most fs.nr_open) asks for kUnlimitedFdTarget, since an unlimited soft one is refused. A soft
/// limit already higher is kept.
rlim_t fd_soft_target(const rlimit& current);
inline constexpr rlim_t kUnlimitedFdTarget = rlim_t{1} << 20;

/// Raises the soft RLIMIT_NOFILE of this process to fd_soft_target(). Errors (getrlimit or
/// setrlimit failing) name the call and errno; the daemon logs them and goes on.
Result<FdLimit> raise_fd_limit();

}  // namespace emu::runtime
