#include "emulator/runtime/probe_control.hpp"

#include <boost/asio/post.hpp>
#include <utility>

namespace emu::runtime {

void ProbeReport::replay(health::HealthSink& sink) {
  switch (kind) {
    case Kind::Result:
      return sink.on_probe_result(task_id, record);
    case Kind::Changed:
      return sink.on_health_changed(task_id, health, std::move(text));
    case Kind::Skipped:
      return sink.on_probes_skipped(task_id, skip, text, count);
  }
}

// The prober thread's monitor reports here: each call becomes a report of the current batch,
// tagged with the generation of the task's watch.
class ProbeControl::BatchSink final : public health::HealthSink {
 public:
  explicit BatchSink(ProbeControl& control) : control_(control) {}
  void on_probe_result(const std::string& task_id, const core::ProbeRecord& record) override {
    ProbeReport r = make(ProbeReport::Kind::Result, task_id);
    r.record = record;
    control_.queue(std::move(r));
  }
  void on_health_changed(const std::string& task_id, core::Health health,
                         std::string reason) override {
    ProbeReport r = make(ProbeReport::Kind::Changed, task_id);
    r.health = health;
    r.text = std::move(reason);
    control_.queue(std::move(r));
  }
  void on_probes_skipped(const std::string& task_id, health::SkipReason reason,
                         const std::string& detail, std::uint64_t count) override {
    ProbeReport r = make(ProbeReport::Kind::Skipped, task_id);
    r.skip = reason;
    r.text = detail;
    r.count = count;
    control_.queue(std::move(r));
  }

 private:
  ProbeReport make(ProbeReport::Kind kind, const std::string& task_id) const {
    ProbeReport r;
    r.kind = kind;
    r.task_id = task_id;
    const auto it = control_.generations_.find(task_id);
    r.generation = it == control_.generations_.end() ? 0 : it->second;
    return r;
  }
  ProbeControl& control_;
};

ProbeControl::ProbeControl(boost::asio::io_context& owner, boost::asio::io_context& prober,
                           Deliver deliver, Duration flush_every)
    : owner_(owner),
      prober_(prober),
      deliver_(std::move(deliver)),
      flush_every_(flush_every),
      flush_timer_(prober),
      snapshot_timer_(prober),
      sink_(std::make_unique<BatchSink>(*this)) {}

ProbeControl::~ProbeControl() = default;

void ProbeControl::watch(health::Target target) {
  const auto it = live_.find(target.task_id);
  if (it != live_.end() && it->second.target == target) return;  // nothing to tell the prober
  // A replaced check keeps the generation (the monitor keeps the task's health); a new watch
  // after an unwatch gets a new one, so late reports of the old watch are dropped.
  const std::uint64_t generation = it != live_.end() ? it->second.generation : next_generation_++;
  live_.insert_or_assign(target.task_id, Live{target, generation});
  send({Command::Op::Watch, std::move(target), generation});
}

void ProbeControl::unwatch(const std::string& task_id) {
  if (live_.erase(task_id) == 0) return;
  Command c;
  c.op = Command::Op::Unwatch;
  c.target.task_id = task_id;
  send(std::move(c));
}

void ProbeControl::unwatch_all() {
  live_.clear();
  Command c;
  c.op = Command::Op::UnwatchAll;
  send(std::move(c));
}

void ProbeControl::send(Command command) {
  bool wake = false;
  {
    const std::lock_guard lock(commands_mutex_);
    wake = commands_.empty();  // else a drain is already on its way
    commands_.push_back(std::move(command));
  }
  if (wake) boost::asio::post(prober_, [this] { drain(); });
}

void ProbeControl::attach(health::HealthMonitor* monitor) {
  monitor_ = monitor;
  if (!monitor_) {
    snapshot_timer_.cancel();
    return;
  }
  drain();
  arm_snapshot_timer();
}

void ProbeControl::arm_snapshot_timer() {
  if (flush_every_ <= Duration::zero()) return;  // the deterministic tests: no real-time timer
  snapshot_timer_.expires_after(5 * flush_every_);
  snapshot_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || !monitor_) return;
    refresh_snapshot();
    arm_snapshot_timer();
  });
}

health::HealthSink& ProbeControl::prober_sink() { return *sink_; }

void ProbeControl::drain() {
  if (!monitor_) return;  // attach() applies them
  std::vector<Command> commands;
  {
    const std::lock_guard lock(commands_mutex_);
    commands.swap(commands_);
  }
  for (auto& c : commands) {
    switch (c.op) {
      case Command::Op::Watch:
        generations_[c.target.task_id] = c.generation;
        monitor_->watch(std::move(c.target));
        break;
      case Command::Op::Unwatch:
        generations_.erase(c.target.task_id);
        monitor_->unwatch(c.target.task_id);
        break;
      case Command::Op::UnwatchAll:
        generations_.clear();
        for (const auto& id : monitor_->watched()) monitor_->unwatch(id);
        break;
    }
  }
  refresh_snapshot();
}

void ProbeControl::queue(ProbeReport report) {
  batch_.push_back(std::move(report));
  if (flush_armed_) return;
  flush_armed_ = true;
  if (flush_every_ <= Duration::zero()) {
    boost::asio::post(prober_, [this] { flush(); });
    return;
  }
  flush_timer_.expires_after(flush_every_);
  flush_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) flush();
  });
}

void ProbeControl::flush() {
  flush_armed_ = false;
  if (batch_.empty()) return;
  refresh_snapshot();
  std::vector<ProbeReport> batch;
  batch.reserve(batch_.size());
  batch.swap(batch_);
  boost::asio::post(owner_,
                    [this, batch = std::move(batch)]() mutable { deliver(std::move(batch)); });
}

void ProbeControl::deliver(std::vector<ProbeReport> batch) {
  std::erase_if(batch, [this](const ProbeReport& r) {
    const auto it = live_.find(r.task_id);
    return it == live_.end() || it->second.generation != r.generation;
  });
  if (!batch.empty() && deliver_) deliver_(batch);
}

void ProbeControl::refresh_snapshot() {
  if (!monitor_) return;
  health::MonitorSnapshot copy = monitor_->snapshot();
  const std::lock_guard lock(snapshot_mutex_);
  snapshot_ = std::move(copy);
}

health::MonitorSnapshot ProbeControl::snapshot() const {
  const std::lock_guard lock(snapshot_mutex_);
  return snapshot_;
}

}  // namespace emu::runtime
