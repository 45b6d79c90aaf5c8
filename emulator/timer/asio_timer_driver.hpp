#pragma once
// AsioTimerDriver: the only steady_timer of the core. It sleeps until the TimerQueue's earliest
// deadline, fires what is due, and re-arms; the queue tells it when an earlier deadline appears.
// Its own target (emu_timer: emu_core + Asio) so the daemon, the tests and the benches share it.
//
// Slack: the driver may wake up to `slack` after a deadline, so deadlines that close together
// fire in one wake-up (timer coalescing, as Linux's timer_slack and libuv/Go batch timers).
// 10,000 probes a second spread over the second would otherwise wake the loop 10,000 times; with
// 1 ms of slack it wakes at most 1,000 times. Order is unchanged: run_due() fires in (deadline,
// sequence) order. Timers never fire early.

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "emulator/core/time.hpp"
#include "emulator/core/timer_queue.hpp"

namespace emu::timer {

class AsioTimerDriver {
 public:
  /// `slack`: how late a timer may fire so that nearby deadlines share one wake-up (>= 0).
  AsioTimerDriver(boost::asio::io_context& io, const TimeSource& time, TimerQueue& timers,
                  Duration slack = kDefaultSlack);
  /// What the daemon uses: far below any interval, timeout or delay it schedules.
  static constexpr Duration kDefaultSlack{1};
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
  const Duration slack_;
  bool stopped_ = false;
  bool armed_ = false;
  TimePoint armed_for_{};
};

}  // namespace emu::timer
