#include "dns/udp_server.hpp"

#include <netinet/in.h>
#include <pthread.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>

#include "dns/pipeline.hpp"
#include "emulator/log/log.hpp"

namespace emu::dns {

UdpServer::UdpServer(const core::SnapshotHolder& zones, std::shared_ptr<DnsCounters> counters,
                     std::shared_ptr<Forwarder> forwarder)
    : zones_(zones), counters_(std::move(counters)), forwarder_(std::move(forwarder)) {}

UdpServer::~UdpServer() { stop(); }

Result<void> UdpServer::bind(const sockaddr_storage& addr, socklen_t len) {
  fd_ = ::socket(addr.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0)
    return Error{Code::Unavailable, std::string("dns udp socket: ") + std::strerror(errno)};
  if (addr.ss_family == AF_INET6) {
    int one = 1;
    ::setsockopt(fd_, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
  }
  if (::bind(fd_, reinterpret_cast<const sockaddr*>(&addr), len) != 0) {
    const int err = errno;
    ::close(fd_);
    fd_ = -1;
    return Error{Code::Unavailable, std::string("dns udp bind: ") + std::strerror(err)};
  }
  // A receive timeout bounds how long stop() can wait even if shutdown() did not wake a thread.
  timeval tv{0, 200000};
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  sockaddr_storage bound{};
  socklen_t blen = sizeof(bound);
  ::getsockname(fd_, reinterpret_cast<sockaddr*>(&bound), &blen);
  port_ = bound.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
                                      : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  return {};
}

void UdpServer::start(unsigned threads) {
  for (unsigned i = 0; i < std::max(threads, 1u); ++i) threads_.emplace_back([this, i] { run(i); });
}

void UdpServer::stop() {
  if (stopping_.exchange(true)) return;
  if (fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);  // wakes blocked recvmmsg (returns 0) on Linux
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
  std::lock_guard lock(fd_mutex_);
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void UdpServer::send_to(std::span<const std::uint8_t> bytes, const sockaddr_storage& peer,
                        socklen_t len) {
  std::lock_guard lock(fd_mutex_);
  if (fd_ < 0 || stopping_.load()) return;
  ::sendto(fd_, bytes.data(), bytes.size(), MSG_DONTWAIT, reinterpret_cast<const sockaddr*>(&peer),
           len);
}

void UdpServer::run(unsigned index) {
  // Named so that its CPU can be told apart from the API's (bench/scale reads /proc task comm).
  ::pthread_setname_np(::pthread_self(), "dns-udp");
  // Per-thread state, allocated once: buffers, headers, scratch query, rng, snapshot reader.
  std::vector<std::uint8_t> in(kBatch * kMaxQuery);
  std::vector<std::uint8_t> out(kBatch * kMaxMessage);
  std::array<mmsghdr, kBatch> rx{};
  std::array<mmsghdr, kBatch> tx{};
  std::array<iovec, kBatch> rx_iov{};
  std::array<iovec, kBatch> tx_iov{};
  std::array<sockaddr_storage, kBatch> peers{};
  for (unsigned i = 0; i < kBatch; ++i) {
    rx_iov[i] = {in.data() + i * kMaxQuery, kMaxQuery};
    rx[i].msg_hdr.msg_iov = &rx_iov[i];
    rx[i].msg_hdr.msg_iovlen = 1;
    rx[i].msg_hdr.msg_name = &peers[i];
  }
  Rng rng(std::random_device{}() ^ (std::uint64_t{index} << 32));
  core::SnapshotHolder::Reader reader(zones_);
  Query query;
  const bool forwarding = forwarder_ != nullptr;

  while (!stopping_.load(std::memory_order_relaxed)) {
    for (unsigned i = 0; i < kBatch; ++i) {
      rx[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
      rx[i].msg_hdr.msg_flags = 0;
    }
    const int n = ::recvmmsg(fd_, rx.data(), kBatch, MSG_WAITFORONE, nullptr);
    if (n <= 0) {
      if (n < 0 && errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK && !stopping_.load()) {
        log::warn("dns", "udp receive failed", {{"error", std::strerror(errno)}});
      }
      continue;
    }
    const core::ZoneSnapshot* zones =
        reader.get();  // one atomic load unless a change was published
    DnsStats stats;
    unsigned out_count = 0;
    for (int i = 0; i < n; ++i) {
      const std::span<const std::uint8_t> packet(in.data() + i * kMaxQuery, rx[i].msg_len);
      if ((rx[i].msg_hdr.msg_flags & MSG_TRUNC) != 0) {
        tally_dropped(stats);
        continue;
      }
      std::span<std::uint8_t> buf(out.data() + out_count * kMaxMessage, kMaxMessage);
      Response r;
      try {
        r = process(packet, Transport::Udp, zones, rng, query, buf, forwarding);
      } catch (const std::exception& e) {  // one per packet: drop it, keep serving
        log::error("dns", "udp packet failed", {{"error", e.what()}});
        r = {};
      }
      tally(stats, r, query);
      if (r.action == Action::Forward) {
        const sockaddr_storage peer = peers[i];
        const socklen_t plen = rx[i].msg_hdr.msg_namelen;
        forwarder_->forward(std::vector<std::uint8_t>(packet.begin(), packet.end()), query,
                            [self = shared_from_this(), peer, plen](
                                std::span<const std::uint8_t> b) { self->send_to(b, peer, plen); });
        continue;
      }
      if (r.action != Action::Send) continue;
      tx_iov[out_count] = {buf.data(), r.size};
      tx[out_count].msg_hdr = {};
      tx[out_count].msg_hdr.msg_iov = &tx_iov[out_count];
      tx[out_count].msg_hdr.msg_iovlen = 1;
      tx[out_count].msg_hdr.msg_name = &peers[i];
      tx[out_count].msg_hdr.msg_namelen = rx[i].msg_hdr.msg_namelen;
      ++out_count;
    }
    counters_->add(stats);  // before sending, so a client that got its answer sees the count
    unsigned sent = 0;
    while (sent < out_count) {
      const int s = ::sendmmsg(fd_, tx.data() + sent, out_count - sent, 0);
      if (s < 0) {
        if (errno == EINTR) continue;
        // One bad peer (e.g. unreachable) must not lose the rest of the batch.
        ++sent;
        continue;
      }
      sent += static_cast<unsigned>(s);
    }
  }
}

}  // namespace emu::dns
