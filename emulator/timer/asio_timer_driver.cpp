#include "emulator/timer/asio_timer_driver.hpp"

#include <algorithm>

namespace emu::timer {

AsioTimerDriver::AsioTimerDriver(boost::asio::io_context& io, const TimeSource& time,
                                 TimerQueue& timers, Duration slack)
    : timer_(io), time_(time), timers_(timers), slack_(std::max(Duration::zero(), slack)) {}

void AsioTimerDriver::start() {
  stopped_ = false;
  timers_.on_rearm([this] { arm(); });
  arm();
}

void AsioTimerDriver::stop() {
  stopped_ = true;
  timers_.on_rearm({});
  timer_.cancel();
}

void AsioTimerDriver::arm() {
  if (stopped_) return;
  const auto next = timers_.next_deadline();
  if (!next) return;
  const TimePoint wake = *next + slack_;
  if (armed_ && armed_for_ <= wake) return;  // already waking early enough
  armed_ = true;
  armed_for_ = wake;
  timer_.expires_at(wake);
  timer_.async_wait([this](const boost::system::error_code& ec) { on_timer(ec); });
}

void AsioTimerDriver::on_timer(const boost::system::error_code& ec) {
  if (ec == boost::asio::error::operation_aborted) {
    // Re-armed for an earlier deadline (a newer wait is pending) or stopped.
    return;
  }
  armed_ = false;
  if (stopped_) return;
  timers_.run_due(time_.now());
  arm();
}

}  // namespace emu::timer
