#include "emulator/health/probe_attempt.hpp"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

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

ProbeConnect connect_probe_socket(const boost::asio::ip::tcp::endpoint& endpoint) {
  const auto system_error = [](int err) {
    return boost::system::error_code{err, boost::system::system_category()};
  };
  ProbeConnect out;
  const int fd = ::socket(endpoint.protocol().family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
                          IPPROTO_TCP);
  if (fd < 0) {
    out.error = system_error(errno);
    return out;
  }
  const ::linger reset{1, 0};
  (void)::setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
  if (::connect(fd, endpoint.data(), static_cast<socklen_t>(endpoint.size())) == 0) {
    out.state = ProbeConnect::State::Connected;
    out.fd = fd;
    return out;
  }
  if (errno != EINPROGRESS) {
    out.error = system_error(errno);
    ::close(fd);
    return out;
  }
  ::pollfd pfd{fd, POLLOUT, 0};
  if (::poll(&pfd, 1, 0) <= 0 || pfd.revents == 0) {
    out.state = ProbeConnect::State::Pending;
    out.fd = fd;
    return out;
  }
  out.error = connect_error(fd);
  if (out.error) {
    ::close(fd);
    return out;
  }
  out.state = ProbeConnect::State::Connected;
  out.fd = fd;
  return out;
}

boost::system::error_code connect_error(int fd) {
  int err = 0;
  socklen_t len = sizeof err;
  if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
  if (err == 0) return {};
  return {err, boost::system::system_category()};
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
