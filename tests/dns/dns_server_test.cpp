// The real servers on loopback port 0 with a small hand-written client: UDP, TCP (pipelined
// queries on one connection), IPv6, forwarding to a fake upstream that answers and to one that
// never does (SERVFAIL), and garbage after which the server still answers.

#include "dns/dns_server.hpp"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <chrono>
#include <cstring>
#include <optional>
#include <thread>

#include "dns/rng.hpp"
#include "tests/dns/dns_test_util.hpp"

namespace emu::dns {
namespace {

using namespace std::chrono_literals;
using test::parse;
using test::Parsed;
using test::query;

// A socket with a receive deadline: tests wait on data, never sleep.
int client_socket(int family, int type, std::uint16_t port) {
  const int fd = ::socket(family, type, 0);
  timeval tv{3, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  sockaddr_storage ss{};
  socklen_t len;
  if (family == AF_INET) {
    auto* s = reinterpret_cast<sockaddr_in*>(&ss);
    s->sin_family = AF_INET;
    s->sin_port = htons(port);
    s->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    len = sizeof(sockaddr_in);
  } else {
    auto* s = reinterpret_cast<sockaddr_in6*>(&ss);
    s->sin6_family = AF_INET6;
    s->sin6_port = htons(port);
    s->sin6_addr = in6addr_loopback;
    len = sizeof(sockaddr_in6);
  }
  if (::connect(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

std::optional<std::vector<std::uint8_t>> udp_ask(std::uint16_t port,
                                                 const std::vector<std::uint8_t>& q,
                                                 int family = AF_INET) {
  const int fd = client_socket(family, SOCK_DGRAM, port);
  if (fd < 0) return std::nullopt;
  ::send(fd, q.data(), q.size(), 0);
  std::vector<std::uint8_t> buf(65535);
  const ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
  ::close(fd);
  if (n < 0) return std::nullopt;
  buf.resize(static_cast<std::size_t>(n));
  return buf;
}

bool read_all(int fd, std::uint8_t* p, std::size_t n) {
  while (n > 0) {
    const ssize_t r = ::recv(fd, p, n, 0);
    if (r <= 0) return false;
    p += r;
    n -= static_cast<std::size_t>(r);
  }
  return true;
}

// Sends every query in one write (pipelined), then reads as many framed responses.
std::vector<std::vector<std::uint8_t>> tcp_ask(
    std::uint16_t port, const std::vector<std::vector<std::uint8_t>>& queries) {
  const int fd = client_socket(AF_INET, SOCK_STREAM, port);
  std::vector<std::uint8_t> stream;
  for (const auto& q : queries) {
    stream.push_back(static_cast<std::uint8_t>(q.size() >> 8));
    stream.push_back(static_cast<std::uint8_t>(q.size()));
    stream.insert(stream.end(), q.begin(), q.end());
  }
  ::send(fd, stream.data(), stream.size(), 0);
  std::vector<std::vector<std::uint8_t>> out;
  for (std::size_t i = 0; i < queries.size(); ++i) {
    std::uint8_t len[2];
    if (!read_all(fd, len, 2)) break;
    std::vector<std::uint8_t> msg((len[0] << 8) | len[1]);
    if (!read_all(fd, msg.data(), msg.size())) break;
    out.push_back(std::move(msg));
  }
  ::close(fd);
  return out;
}

// A fake upstream: answers every query with `example.com. 60 IN A 192.0.2.1` (or never, when mute).
class FakeUpstream {
 public:
  explicit FakeUpstream(bool mute) : mute_(mute) {
    fd_ = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in s{};
    s.sin_family = AF_INET;
    s.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&s), sizeof(s));
    socklen_t len = sizeof(s);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&s), &len);
    port_ = ntohs(s.sin_port);
    timeval tv{0, 100000};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    thread_ = std::thread([this] { run(); });
  }
  ~FakeUpstream() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  std::uint16_t port() const { return port_; }
  std::atomic<int> seen{0};
  std::atomic<int> last_id{-1};

 private:
  void run() {
    while (!stop_) {
      std::uint8_t buf[512];
      sockaddr_storage peer{};
      socklen_t plen = sizeof(peer);
      const ssize_t n =
          ::recvfrom(fd_, buf, sizeof(buf), 0, reinterpret_cast<sockaddr*>(&peer), &plen);
      if (n < 12) continue;
      ++seen;
      last_id = (buf[0] << 8) | buf[1];
      if (mute_) continue;
      std::vector<std::uint8_t> r(buf, buf + n);
      r[2] |= 0x80;  // QR
      r[3] = 0x80;   // RA, NOERROR
      r[7] = 1;      // ANCOUNT
      r.insert(r.end(), {0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1});
      ::sendto(fd_, r.data(), r.size(), 0, reinterpret_cast<sockaddr*>(&peer), plen);
    }
  }

  bool mute_;
  int fd_;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

class DnsServerTest : public testing::Test {
 protected:
  void start(DnsServerConfig cfg) {
    holder_.publish(core::ZoneSnapshot::build(test::test_model()));
    server_.emplace(io_, holder_, std::move(cfg));
    auto r = server_->start();
    ASSERT_TRUE(r.ok()) << r.error().message;
    thread_ = std::thread([this] { io_.run(); });
  }
  void TearDown() override {
    if (server_) server_->stop();
    work_.reset();
    io_.stop();
    if (thread_.joinable()) thread_.join();
  }

  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_{
      io_.get_executor()};
  core::SnapshotHolder holder_;
  std::optional<DnsServer> server_;
  std::thread thread_;
};

TEST_F(DnsServerTest, AnswersOverUdpAndTcpOnTheSamePort) {
  start({.listen = "127.0.0.1:0"});
  const std::uint16_t port = server_->port();
  ASSERT_NE(port, 0);
  const auto udp = udp_ask(port, query("game-server.local.", 1));
  ASSERT_TRUE(udp);
  const Parsed p = parse(*udp);
  EXPECT_EQ(p.rcode, 0);
  EXPECT_TRUE(p.aa);
  EXPECT_EQ(p.answer.size(), 3u);

  // three pipelined queries on one connection, answered in order; TCP is never truncated
  const auto tcp =
      tcp_ask(port, {query("game-server.local.", 1, {.id = 1}), query("nope.local.", 1, {.id = 2}),
                     query("many-srv.local.", 33, {.id = 3})});
  ASSERT_EQ(tcp.size(), 3u);
  EXPECT_EQ(parse(tcp[0]).id, 1);
  EXPECT_EQ(parse(tcp[0]).answer.size(), 3u);
  EXPECT_EQ(parse(tcp[1]).rcode, 3);
  EXPECT_EQ(parse(tcp[2]).answer.size(), 40u);
  EXPECT_FALSE(parse(tcp[2]).tc);
  // the same over UDP is truncated
  EXPECT_TRUE(parse(*udp_ask(port, query("many-srv.local.", 33))).tc);
  EXPECT_EQ(server_->queries(), 5u);
  const DnsStats s = server_->stats();
  EXPECT_EQ(s.responses[rcode_index(Rcode::NxDomain)], 1u);
  EXPECT_EQ(s.truncated, 1u);
}

TEST_F(DnsServerTest, WithoutUpstreamOutsideNamesAreRefused) {
  start({.listen = "127.0.0.1:0"});
  EXPECT_EQ(parse(*udp_ask(server_->port(), query("example.com.", 1))).rcode, 5);
}

TEST_F(DnsServerTest, ListensOnIpv6) {
  holder_.publish(core::ZoneSnapshot::build(test::test_model()));
  server_.emplace(io_, holder_, DnsServerConfig{.listen = "[::1]:0"});
  if (!server_->start().ok()) GTEST_SKIP() << "no IPv6 loopback here";
  thread_ = std::thread([this] { io_.run(); });
  const auto r = udp_ask(server_->port(), query("game-server.local.", 1), AF_INET6);
  ASSERT_TRUE(r);
  EXPECT_EQ(parse(*r).answer.size(), 3u);
}

TEST_F(DnsServerTest, ForwardsOutsideNamesToTheUpstream) {
  FakeUpstream upstream(/*mute=*/false);
  start({.listen = "127.0.0.1:0", .upstream = "127.0.0.1:" + std::to_string(upstream.port())});
  const auto r = udp_ask(server_->port(), query("example.com.", 1, {.id = 0x4242}));
  ASSERT_TRUE(r);
  const Parsed p = parse(*r);
  EXPECT_EQ(p.id, 0x4242);  // mapped back to the client's id
  EXPECT_EQ(p.rcode, 0);
  EXPECT_THAT(p.answer, testing::ElementsAre("example.com. 60 IN A 192.0.2.1"));
  EXPECT_EQ(upstream.seen, 1);
  // over TCP too
  const auto tcp = tcp_ask(server_->port(), {query("example.com.", 1, {.id = 9})});
  ASSERT_EQ(tcp.size(), 1u);
  EXPECT_EQ(parse(tcp[0]).id, 9);
  EXPECT_EQ(parse(tcp[0]).answer.size(), 1u);
  // our own names are never forwarded
  EXPECT_EQ(parse(*udp_ask(server_->port(), query("nope.local.", 1))).rcode, 3);
  EXPECT_EQ(upstream.seen, 2);
  EXPECT_EQ(server_->stats().forwarded, 2u);
}

TEST_F(DnsServerTest, SilentUpstreamGivesServfail) {
  FakeUpstream upstream(/*mute=*/true);
  start({.listen = "127.0.0.1:0",
         .upstream = "127.0.0.1:" + std::to_string(upstream.port()),
         .upstream_timeout = 100ms});
  const auto r = udp_ask(server_->port(), query("example.com.", 1, {.id = 77}));
  ASSERT_TRUE(r);
  const Parsed p = parse(*r);
  EXPECT_EQ(p.id, 77);
  EXPECT_EQ(p.rcode, 2);
  EXPECT_EQ(p.question.size(), 1u);
  // meanwhile our own zone answers without waiting
  EXPECT_EQ(parse(*udp_ask(server_->port(), query("game-server.local.", 1))).rcode, 0);
}

TEST_F(DnsServerTest, GarbageDoesNotStopIt) {
  start({.listen = "127.0.0.1:0"});
  const std::uint16_t port = server_->port();
  const int fd = client_socket(AF_INET, SOCK_DGRAM, port);
  Rng rng(3);
  for (int i = 0; i < 500; ++i) {
    std::vector<std::uint8_t> junk(rng.below(100));
    for (auto& b : junk) b = static_cast<std::uint8_t>(rng.next());
    ::send(fd, junk.data(), junk.size(), 0);
  }
  ::close(fd);
  // a TCP client that sends half a message and a huge length, then goes away
  const int t = client_socket(AF_INET, SOCK_STREAM, port);
  const std::uint8_t partial[] = {0xff, 0xff, 1, 2, 3};
  ::send(t, partial, sizeof(partial), 0);
  ::close(t);
  // the flood may fill the socket buffer and the kernel drops what does not fit; a client
  // retries, as real resolvers do, and gets an answer once the junk is drained
  std::optional<std::vector<std::uint8_t>> r;
  for (int attempt = 0; attempt < 3 && !r; ++attempt)
    r = udp_ask(port, query("game-server.local.", 1));
  ASSERT_TRUE(r);
  EXPECT_EQ(parse(*r).answer.size(), 3u);
  EXPECT_EQ(tcp_ask(port, {query("game-server.local.", 1)}).size(), 1u);
}

TEST_F(DnsServerTest, IdleTcpConnectionsAreClosed) {
  start({.listen = "127.0.0.1:0", .tcp_idle_timeout = 100ms});
  const int fd = client_socket(AF_INET, SOCK_STREAM, server_->port());
  std::uint8_t b;
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(::recv(fd, &b, 1, 0), 0);  // the server closes: EOF well before our 3 s deadline
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
  ::close(fd);
}

TEST_F(DnsServerTest, StopIsIdempotent) {
  start({.listen = "127.0.0.1:0"});
  server_->stop();
  server_->stop();
}

TEST(ParseHostPortTest, Forms) {
  EXPECT_EQ(parse_host_port("127.0.0.1:9053", 53)->port, 9053);
  EXPECT_EQ(parse_host_port("127.0.0.1", 53)->port, 53);
  EXPECT_EQ(parse_host_port("[::1]:9053", 53)->address.to_string(), "::1");
  EXPECT_EQ(parse_host_port("[::1]", 53)->port, 53);
  EXPECT_EQ(parse_host_port("::1", 53)->address.to_string(), "::1");
  EXPECT_FALSE(parse_host_port("localhost:53", 53).ok());
  EXPECT_FALSE(parse_host_port("1.2.3.4:99999", 53).ok());
  EXPECT_FALSE(parse_host_port("[::1", 53).ok());
}

}  // namespace
}  // namespace emu::dns
