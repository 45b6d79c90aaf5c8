#pragma once
// UdpServer: dedicated threads on one blocking UDP socket, reading and answering in batches with
// recvmmsg/sendmmsg (the kernel's floor is the cost to beat, so no event loop sits in between).
// Each thread owns its buffers, Rng, Query scratch and SnapshotHolder::Reader: no lock and no
// allocation per query. Forwarded queries are posted to the Forwarder and answered from the
// io_context thread through send_to().

#include <sys/socket.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <thread>
#include <vector>

#include "dns/dns_counters.hpp"
#include "dns/forwarder.hpp"
#include "emulator/core/result.hpp"
#include "emulator/core/snapshot_holder.hpp"

namespace emu::dns {

class UdpServer : public std::enable_shared_from_this<UdpServer> {
 public:
  /// Queries per recvmmsg/sendmmsg batch.
  static constexpr unsigned kBatch = 32;
  /// Largest query read; longer datagrams are dropped (real queries are far smaller).
  static constexpr std::size_t kMaxQuery = 4096;

  /// A server answering from `zones`; `forwarder` may be null (REFUSED outside our zones).
  UdpServer(const core::SnapshotHolder& zones, std::shared_ptr<DnsCounters> counters,
            std::shared_ptr<Forwarder> forwarder);
  ~UdpServer();
  UdpServer(const UdpServer&) = delete;
  UdpServer& operator=(const UdpServer&) = delete;

  /// Creates the socket and binds it (port 0: the kernel picks one).
  Result<void> bind(const sockaddr_storage& addr, socklen_t len);
  /// The bound port.
  std::uint16_t port() const { return port_; }
  /// Starts `threads` receive threads.
  void start(unsigned threads);
  /// Wakes and joins the threads, closes the socket; idempotent.
  void stop();
  /// Sends one datagram (forwarded answers); safe from any thread, a no-op after stop().
  void send_to(std::span<const std::uint8_t> bytes, const sockaddr_storage& peer, socklen_t len);

 private:
  void run(unsigned index);

  const core::SnapshotHolder& zones_;
  std::shared_ptr<DnsCounters> counters_;
  std::shared_ptr<Forwarder> forwarder_;
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::mutex fd_mutex_;  ///< guards fd_ against close() during a forwarded send
  std::vector<std::thread> threads_;
};

}  // namespace emu::dns
