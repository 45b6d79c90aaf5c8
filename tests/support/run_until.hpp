#pragma once
// run_until: drives a real io_context until a condition holds or a deadline passes (tests of the
// Asio edges wait on conditions, never sleep).

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>

namespace emu::test {

/// Runs `io` until `done()` or the deadline; true when done.
inline bool run_until(boost::asio::io_context& io, const std::function<bool()>& done,
                      std::chrono::milliseconds deadline = std::chrono::seconds(10)) {
  const auto end = std::chrono::steady_clock::now() + deadline;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= end) return false;
    io.restart();
    io.run_one_for(std::chrono::milliseconds(20));
  }
  return true;
}

}  // namespace emu::test
