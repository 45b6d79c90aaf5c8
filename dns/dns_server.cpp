#include "dns/dns_server.hpp"

#include <netinet/in.h>

#include <boost/asio/post.hpp>
#include <charconv>
#include <cstring>
#include <future>

#include "dns/forwarder.hpp"
#include "dns/tcp_server.hpp"
#include "dns/udp_server.hpp"
#include "emulator/log/log.hpp"

namespace emu::dns {

namespace asio = boost::asio;

Result<HostPort> parse_host_port(std::string_view text, std::uint16_t default_port) {
  std::string_view host = text;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos) return invalid("bad address '" + std::string(text) + "'");
    host = text.substr(1, close - 1);
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return invalid("bad address '" + std::string(text) + "'");
      port = rest.substr(1);
    }
  } else if (const auto colon = text.rfind(':'); colon != std::string_view::npos) {
    if (text.find(':') != colon) {
      host = text;  // a bare IPv6 address without a port
    } else {
      host = text.substr(0, colon);
      port = text.substr(colon + 1);
    }
  }
  HostPort out;
  out.port = default_port;
  if (!port.empty()) {
    unsigned v = 0;
    const auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), v);
    if (ec != std::errc{} || p != port.data() + port.size() || v > 65535) {
      return invalid("bad port in '" + std::string(text) + "'");
    }
    out.port = static_cast<std::uint16_t>(v);
  }
  boost::system::error_code ec;
  out.address = asio::ip::make_address(std::string(host), ec);
  if (ec) return invalid("bad address '" + std::string(text) + "': " + ec.message());
  return out;
}

namespace {

std::pair<sockaddr_storage, socklen_t> to_sockaddr(const asio::ip::address& a, std::uint16_t port) {
  sockaddr_storage ss{};
  if (a.is_v4()) {
    auto* s = reinterpret_cast<sockaddr_in*>(&ss);
    s->sin_family = AF_INET;
    s->sin_port = htons(port);
    const auto b = a.to_v4().to_bytes();
    std::memcpy(&s->sin_addr, b.data(), b.size());
    return {ss, sizeof(sockaddr_in)};
  }
  auto* s = reinterpret_cast<sockaddr_in6*>(&ss);
  s->sin6_family = AF_INET6;
  s->sin6_port = htons(port);
  const auto b = a.to_v6().to_bytes();
  std::memcpy(&s->sin6_addr, b.data(), b.size());
  s->sin6_scope_id = a.to_v6().scope_id();
  return {ss, sizeof(sockaddr_in6)};
}

}  // namespace

DnsServer::DnsServer(asio::io_context& io, const core::SnapshotHolder& zones, DnsServerConfig cfg)
    : io_(io), zones_(zones), cfg_(std::move(cfg)), counters_(std::make_shared<DnsCounters>()) {}

DnsServer::~DnsServer() { stop(); }

Result<void> DnsServer::start() {
  auto listen = parse_host_port(cfg_.listen, 53);
  if (!listen) return Error{Code::InvalidArgument, "--dns-listen: " + listen.error().message};
  if (cfg_.upstream) {
    auto up = parse_host_port(*cfg_.upstream, 53);
    if (!up) return Error{Code::InvalidArgument, "--upstream: " + up.error().message};
    forwarder_ = std::make_shared<Forwarder>(io_, asio::ip::udp::endpoint(up->address, up->port),
                                             cfg_.upstream_timeout);
    if (auto r = forwarder_->start(); !r) return r;
  }
  // Port 0: the kernel picks a UDP port; TCP must get the same one, so retry if it is taken.
  const int attempts = listen->port == 0 ? 20 : 1;
  Error last{Code::Unavailable, "dns: no port"};
  for (int i = 0; i < attempts; ++i) {
    auto udp = std::make_shared<UdpServer>(zones_, counters_, forwarder_);
    const auto [ss, len] = to_sockaddr(listen->address, listen->port);
    if (auto r = udp->bind(ss, len); !r) {
      last = r.error();
      continue;
    }
    auto tcp = std::make_shared<TcpServer>(io_, zones_, counters_, forwarder_, cfg_.tcp);
    if (auto r = tcp->bind(asio::ip::tcp::endpoint(listen->address, udp->port())); !r) {
      last = r.error();
      udp->stop();
      continue;
    }
    udp_ = std::move(udp);
    tcp_ = std::move(tcp);
    port_ = udp_->port();
    udp_->start(cfg_.udp_threads);
    tcp_->start();
    log::info("dns", "listening",
              {{"address", listen->address.to_string()},
               {"port", std::to_string(port_)},
               {"upstream", cfg_.upstream.value_or("")}});
    return {};
  }
  if (forwarder_) forwarder_->stop();
  return Error{last.code, last.message + " (" + cfg_.listen + ")"};
}

void DnsServer::stop() {
  if (stopped_) return;
  stopped_ = true;
  if (udp_) udp_->stop();
  auto close_io = [tcp = tcp_, fwd = forwarder_] {
    if (tcp) tcp->stop();
    if (fwd) fwd->stop();
  };
  if (!tcp_ && !forwarder_) return;
  if (io_.stopped() || io_.get_executor().running_in_this_thread()) return close_io();
  // The TCP and forwarder sockets belong to the io_context's thread: close them there.
  auto done = std::make_shared<std::promise<void>>();
  auto ready = done->get_future();
  asio::post(io_, [close_io, done] {
    close_io();
    done->set_value();
  });
  if (ready.wait_for(std::chrono::seconds(1)) != std::future_status::ready) close_io();
}

std::uint64_t DnsServer::queries() const {
  return counters_->queries.load(std::memory_order_relaxed);
}

DnsStats DnsServer::stats() const { return counters_->snapshot(); }

}  // namespace emu::dns
