#include "emulator/runtime/prober_thread.hpp"

#include <pthread.h>

#include "emulator/core/time.hpp"
#include "emulator/core/timer_queue.hpp"
#include "emulator/health/health_monitor.hpp"
#include "emulator/timer/asio_timer_driver.hpp"

namespace emu::runtime {

ProberThread::ProberThread(boost::asio::io_context& owner, ProbeControl::Deliver deliver,
                           ProberOptions options)
    : options_(options),
      work_(boost::asio::make_work_guard(io_)),
      control_(owner, io_, std::move(deliver), options.flush_every),
      thread_([this] { run(); }) {}

ProberThread::~ProberThread() {
  io_.stop();
  thread_.join();
}

void ProberThread::run() {
  pthread_setname_np(pthread_self(), "prober");
  // Everything of the probes lives and dies on this thread.
  SteadyTimeSource clock;
  TimerQueue timers;
  timer::AsioTimerDriver driver(io_, clock, timers);
  health::AsioProbeExecutor executor(io_, options_.executor);
  health::HealthMonitor monitor(clock, timers, executor, control_.prober_sink());
  control_.attach(&monitor);
  driver.start();
  io_.run();
  control_.attach(nullptr);
  driver.stop();
}

}  // namespace emu::runtime
