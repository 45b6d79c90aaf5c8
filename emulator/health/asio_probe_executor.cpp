#include "emulator/health/asio_probe_executor.hpp"

#include <algorithm>
#include <utility>

#include "emulator/health/command_probe.hpp"
#include "emulator/health/grpc_probe.hpp"
#include "emulator/health/http_probe.hpp"
#include "emulator/health/probe_attempt.hpp"
#include "emulator/health/tcp_probe.hpp"

namespace emu::health {

namespace {

// The trivial attempt of ProbeType::None: passes without any I/O.
class NoProbe final : public ProbeAttempt {
 public:
  using ProbeAttempt::ProbeAttempt;

 private:
  void do_start() override { finish(ProbeResult::pass("none")); }
  void do_stop() override { finish(ProbeResult::fail("cancelled")); }
};

// A command probe the operator does not allow: nothing is spawned, and the task's health is
// left as it is (a skipped result counts neither way).
class RefusedCommand final : public ProbeAttempt {
 public:
  using ProbeAttempt::ProbeAttempt;

 private:
  void do_start() override {
    finish(ProbeResult::skipped(SkipReason::CommandsDisabled, kCommandsDisabledDetail));
  }
  void do_stop() override { finish(ProbeResult::fail("cancelled")); }
};

std::shared_ptr<ProbeAttempt> make_attempt(boost::asio::io_context& io, const ProbeSpec& spec,
                                           Duration timeout, ProbeAttempt::Done done,
                                           const ProbeExecutorOptions& options) {
  if (spec.type == core::ProbeType::Command && !options.allow_commands) {
    return std::make_shared<RefusedCommand>(io, spec, timeout, std::move(done));
  }
  switch (spec.type) {
    case core::ProbeType::Http:
      return std::make_shared<HttpProbe>(io, spec, timeout, std::move(done));
    case core::ProbeType::Tcp:
      return std::make_shared<TcpProbe>(io, spec, timeout, std::move(done));
    case core::ProbeType::Grpc:
      return std::make_shared<GrpcProbe>(io, spec, timeout, std::move(done));
    case core::ProbeType::Command:
      return std::make_shared<CommandProbe>(io, spec, timeout, std::move(done));
    case core::ProbeType::None:
      break;
  }
  return std::make_shared<NoProbe>(io, spec, timeout, std::move(done));
}

// Min-heap order for std::push_heap/pop_heap (which build max-heaps).
template <typename D>
bool later(const D& a, const D& b) {
  return a.at > b.at;
}

}  // namespace

AsioProbeExecutor::AsioProbeExecutor(boost::asio::io_context& io, ProbeExecutorOptions options)
    : io_(io), options_(options), state_(std::make_shared<State>(io)) {}

AsioProbeExecutor::~AsioProbeExecutor() {
  state_->timer.cancel();
  std::unordered_map<AttemptId, std::weak_ptr<ProbeAttempt>> table;
  table.swap(state_->attempts);
  for (auto& [id, weak] : table) {
    if (auto attempt = weak.lock()) attempt->abandon();
  }
}

ProbeExecutor::AttemptId AsioProbeExecutor::run(const ProbeSpec& spec, Duration timeout,
                                                Callback done) {
  const AttemptId id = next_id_++;
  auto wrapped = [state = std::weak_ptr<State>(state_), id, done = std::move(done)](ProbeResult r) {
    if (auto s = state.lock()) s->attempts.erase(id);
    if (done) done(std::move(r));
  };
  auto attempt = make_attempt(io_, spec, timeout, std::move(wrapped), options_);
  state_->attempts[id] = attempt;
  state_->deadlines.push_back({Clock::now() + timeout, id});
  std::push_heap(state_->deadlines.begin(), state_->deadlines.end(), later<Deadline>);
  arm(state_);
  attempt->start();  // finish() posts: done is never called from here
  return id;
}

void AsioProbeExecutor::arm(const std::shared_ptr<State>& state) {
  auto& heap = state->deadlines;
  // Deadlines of attempts that already finished are dropped as they reach the top.
  while (!heap.empty() && !state->attempts.contains(heap.front().id)) {
    std::pop_heap(heap.begin(), heap.end(), later<Deadline>);
    heap.pop_back();
  }
  if (heap.empty()) return;
  const Clock::time_point next = heap.front().at;
  if (state->armed_for && *state->armed_for <= next) return;  // already waking early enough
  state->armed_for = next;
  state->timer.expires_at(next);
  state->timer.async_wait(
      [weak = std::weak_ptr<State>(state)](const boost::system::error_code& ec) {
        if (ec == boost::asio::error::operation_aborted) return;  // re-armed earlier, or gone
        if (auto s = weak.lock()) on_deadline(s);
      });
}

void AsioProbeExecutor::on_deadline(const std::shared_ptr<State>& state) {
  state->armed_for.reset();
  auto& heap = state->deadlines;
  const Clock::time_point now = Clock::now();
  std::vector<std::shared_ptr<ProbeAttempt>> expired;
  while (!heap.empty() && heap.front().at <= now) {
    const AttemptId id = heap.front().id;
    std::pop_heap(heap.begin(), heap.end(), later<Deadline>);
    heap.pop_back();
    const auto it = state->attempts.find(id);
    if (it == state->attempts.end()) continue;
    if (auto attempt = it->second.lock()) expired.push_back(std::move(attempt));
  }
  arm(state);
  // After the heap is consistent: an attempt's cancel may finish it (and post its result).
  for (const auto& attempt : expired) attempt->expire();
}

void AsioProbeExecutor::cancel(AttemptId id) {
  const auto it = state_->attempts.find(id);
  if (it == state_->attempts.end()) return;
  if (auto attempt = it->second.lock()) attempt->cancel("cancelled");
}

std::size_t AsioProbeExecutor::in_flight() const { return state_->attempts.size(); }

}  // namespace emu::health
