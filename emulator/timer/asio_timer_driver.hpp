#pragma once
// AsioTimerDriver: the only steady_timer of the core. It sleeps until the TimerQueue's earliest
// deadline, fires what is due, and re-arms; the queue tells it when an earlier deadline appears.
// Its own target (emu_timer: emu_core + Asio) so the daemon, the tests and the benches share it.

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "emulator/core/time.hpp"
#include "emulator/core/timer_queue.hpp"

namespace emu::timer {

class AsioTimerDriver {
 public:
  AsioTimerDriver(boost::asio::io_context& io, const TimeSource& time, TimerQueue& timers);
  /// Arms for the current earliest deadline.
  void start();
  /// Cancels the timer; nothing fires afterwards.
  void stop();

 private:
  void arm();
  void on_timer(const boost::system::error_code& ec);

  boost::asio::steady_timer timer_;
  const TimeSource& time_;
  TimerQueue& timers_;
  bool stopped_ = false;
  bool armed_ = false;
  TimePoint armed_for_{};
};

}  // namespace emu::timer
