#include "emulator/health/probe_attempt.hpp"

#include <boost/asio/post.hpp>
#include <cctype>
#include <cerrno>
#include <utility>

namespace emu::health {

namespace {

std::string format_duration(Duration d) {
  if (d.count() % 1000 == 0) return std::to_string(d.count() / 1000) + "s";
  return std::to_string(d.count()) + "ms";
}

}  // namespace

ProbeAttempt::ProbeAttempt(boost::asio::io_context& io, ProbeSpec spec, Duration timeout, Done done)
    : io_(io), spec_(std::move(spec)), timeout_(timeout), done_(std::move(done)) {}

void ProbeAttempt::expire() { cancel("timeout after " + format_duration(timeout_)); }

void ProbeAttempt::cancel(std::string why) {
  if (finished_ || stop_reason_) return;
  stop_reason_ = std::move(why);
  do_stop();
}

void ProbeAttempt::abandon() {
  if (!finished_) {
    finished_ = true;
    done_ = nullptr;
    if (!stop_reason_) stop_reason_ = "abandoned";
    do_abandon();
  }
}

void ProbeAttempt::finish(ProbeResult result) {
  if (finished_) return;
  finished_ = true;
  if (stop_reason_) {
    result.outcome = Outcome::Fail;
    result.skip_reason = SkipReason::None;
    result.detail = *stop_reason_;
  }
  if (result.output.size() > kMaxProbeOutput) result.output.resize(kMaxProbeOutput);
  // Never inline: the result is delivered from the event loop, as a completion handler.
  boost::asio::post(io_, [done = std::move(done_), result = std::move(result)]() mutable {
    if (done) done(std::move(result));
  });
  done_ = nullptr;
}

std::optional<boost::asio::ip::tcp::endpoint> endpoint_of(const ProbeSpec& spec) {
  boost::system::error_code ec;
  const auto address = boost::asio::ip::make_address(spec.ip, ec);
  if (ec) return std::nullopt;
  return boost::asio::ip::tcp::endpoint{address, spec.port};
}

boost::system::error_code open_probe_socket(boost::asio::ip::tcp::socket& socket,
                                            const boost::asio::ip::tcp::endpoint& endpoint) {
  boost::system::error_code ec;
  socket.open(endpoint.protocol(), ec);
  if (ec) return ec;
  boost::system::error_code ignored;
  socket.set_option(boost::asio::socket_base::linger(true, 0), ignored);
  return {};
}

std::string authority_of(const ProbeSpec& spec) {
  if (!spec.host.empty()) return spec.host;
  const bool v6 = spec.ip.find(':') != std::string::npos;
  return (v6 ? "[" + spec.ip + "]" : spec.ip) + ":" + std::to_string(spec.port);
}

std::string describe_error(const char* what, const boost::system::error_code& ec) {
  std::string message = ec.message();
  for (auto& c : message) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return std::string(what) + ": " + message;
}

bool out_of_resources(int err) {
  switch (err) {
    case EMFILE:
    case ENFILE:
    case ENOBUFS:
    case ENOMEM:
    case EAGAIN:
      return true;
    default:
      return false;
  }
}

bool out_of_resources(const boost::system::error_code& ec) {
  return ec.category() == boost::system::system_category() && out_of_resources(ec.value());
}

ProbeResult io_error(const char* what, const boost::system::error_code& ec) {
  std::string detail = describe_error(what, ec);
  if (out_of_resources(ec)) return ProbeResult::skipped(SkipReason::Resources, std::move(detail));
  return ProbeResult::fail(std::move(detail));
}

}  // namespace emu::health
