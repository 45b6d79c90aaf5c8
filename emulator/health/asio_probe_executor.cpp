#include "emulator/health/asio_probe_executor.hpp"

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

}  // namespace

AsioProbeExecutor::AsioProbeExecutor(boost::asio::io_context& io, ProbeExecutorOptions options)
    : io_(io), options_(options) {}

AsioProbeExecutor::~AsioProbeExecutor() {
  Table table;
  table.swap(*attempts_);
  for (auto& [id, weak] : table) {
    if (auto attempt = weak.lock()) attempt->abandon();
  }
}

ProbeExecutor::AttemptId AsioProbeExecutor::run(const ProbeSpec& spec, Duration timeout,
                                                Callback done) {
  const AttemptId id = next_id_++;
  auto wrapped = [table = std::weak_ptr<Table>(attempts_), id,
                  done = std::move(done)](ProbeResult r) {
    if (auto t = table.lock()) t->erase(id);
    if (done) done(std::move(r));
  };
  auto attempt = make_attempt(io_, spec, timeout, std::move(wrapped), options_);
  (*attempts_)[id] = attempt;
  attempt->start();  // finish() posts: done is never called from here
  return id;
}

void AsioProbeExecutor::cancel(AttemptId id) {
  const auto it = attempts_->find(id);
  if (it == attempts_->end()) return;
  if (auto attempt = it->second.lock()) attempt->cancel("cancelled");
}

std::size_t AsioProbeExecutor::in_flight() const { return attempts_->size(); }

}  // namespace emu::health
