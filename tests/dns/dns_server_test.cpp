// The real servers on loopback port 0 with a small hand-written client: UDP, TCP (pipelined
// queries on one connection), IPv6, forwarding to a fake upstream that answers and to one that
// never does (SERVFAIL), and garbage after which the server still answers.

#include "dns/dns_server.hpp"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/error.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>
#include <thread>

#include "dns/rng.hpp"
#include "dns/tcp_server.hpp"
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

// A TCP connection to the server from `source` (every 127.0.0.0/8 address is local on Linux, so
// a test can play several clients), with the same 3 s receive deadline.
int tcp_connect(std::uint16_t port, const char* source = "127.0.0.1") {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  timeval tv{3, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  sockaddr_in from{};
  from.sin_family = AF_INET;
  ::inet_pton(AF_INET, source, &from.sin_addr);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof(from)) != 0 ||
      ::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof(to)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// One framed query on an open connection and its framed answer; nullopt when the server closed
// the connection instead (EOF or reset) or nothing came before the deadline.
std::optional<Parsed> tcp_query(int fd, const std::vector<std::uint8_t>& q) {
  std::vector<std::uint8_t> framed = {static_cast<std::uint8_t>(q.size() >> 8),
                                      static_cast<std::uint8_t>(q.size())};
  framed.insert(framed.end(), q.begin(), q.end());
  if (::send(fd, framed.data(), framed.size(), MSG_NOSIGNAL) < 0) return std::nullopt;
  std::uint8_t len[2];
  if (!read_all(fd, len, 2)) return std::nullopt;
  std::vector<std::uint8_t> msg((len[0] << 8) | len[1]);
  if (!read_all(fd, msg.data(), msg.size())) return std::nullopt;
  return parse(msg);
}

// Whether the server closes this connection (EOF or reset) before the 3 s deadline.
bool closed_by_server(int fd) {
  std::uint8_t b;
  const ssize_t r = ::recv(fd, &b, 1, 0);
  return r == 0 || (r < 0 && errno == ECONNRESET);
}

// A fake upstream: answers every query with `example.com. 60 IN A 192.0.2.1` (`answers` times, so
// a test can make the answer large), or never, when mute.
class FakeUpstream {
 public:
  explicit FakeUpstream(bool mute, int answers = 1) : mute_(mute), answers_(answers) {
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
      r[2] |= 0x80;                                     // QR
      r[3] = 0x80;                                      // RA, NOERROR
      r[6] = static_cast<std::uint8_t>(answers_ >> 8);  // ANCOUNT
      r[7] = static_cast<std::uint8_t>(answers_);
      r[10] = r[11] = 0;  // the client's OPT is echoed as is: keep it out of the count
      r.resize(12 + (n - 12 - (buf[11] != 0 ? 11 : 0)));
      for (int i = 0; i < answers_; ++i) {
        r.insert(r.end(), {0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1});
      }
      ::sendto(fd_, r.data(), r.size(), 0, reinterpret_cast<sockaddr*>(&peer), plen);
    }
  }

  bool mute_;
  int answers_;
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
  EXPECT_EQ(s.responses_with(Rcode::NxDomain), 1u);
  EXPECT_EQ(s.responses[qtype_index(1)][rcode_index(Rcode::NxDomain)], 1u);
  EXPECT_EQ(s.queries_by_type[qtype_index(33)], 2u);
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

TEST_F(DnsServerTest, ForwardedUdpAnswerNeverExceedsTheClientsSize) {
  FakeUpstream upstream(/*mute=*/false, /*answers=*/40);  // 40 A records: about 680 bytes
  start({.listen = "127.0.0.1:0", .upstream = "127.0.0.1:" + std::to_string(upstream.port())});
  // without EDNS the client takes 512: it gets TC=1 and no records, so it asks over TCP
  const auto r = udp_ask(server_->port(), query("example.com.", 1, {.id = 0x77}));
  ASSERT_TRUE(r);
  EXPECT_LE(r->size(), 512u);
  const Parsed p = parse(*r);
  EXPECT_EQ(p.id, 0x77);
  EXPECT_TRUE(p.tc);
  EXPECT_THAT(p.answer, testing::IsEmpty());
  EXPECT_EQ(p.question.size(), 1u);
  // with room for it, the upstream's answer is relayed whole
  const auto big = udp_ask(server_->port(), query("example.com.", 1, {.edns = true}));
  ASSERT_TRUE(big);
  EXPECT_FALSE(parse(*big).tc);
  EXPECT_EQ(parse(*big).answer.size(), 40u);
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
  start({.listen = "127.0.0.1:0", .tcp = {.idle_timeout = 100ms}});
  const int fd = client_socket(AF_INET, SOCK_STREAM, server_->port());
  std::uint8_t b;
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(::recv(fd, &b, 1, 0), 0);  // the server closes: EOF well before our 3 s deadline
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
  ::close(fd);
}

TEST_F(DnsServerTest, TcpConnectionsFromOneAddressAreCapped) {
  start({.listen = "127.0.0.1:0", .tcp = {.max_per_client = 3}});
  const std::uint16_t port = server_->port();
  const auto q = query("game-server.local.", 1);
  std::vector<int> own;
  for (int i = 0; i < 3; ++i) {
    own.push_back(tcp_connect(port));
    ASSERT_GE(own.back(), 0);
    ASSERT_TRUE(tcp_query(own.back(), q)) << i;  // answered, so it holds a slot
  }
  // a fourth from the same address is closed without an answer
  const int extra = tcp_connect(port);
  ASSERT_GE(extra, 0);
  EXPECT_FALSE(tcp_query(extra, q));
  ::close(extra);
  EXPECT_EQ(server_->stats().tcp_refused, 1u);
  // another client is not locked out, and the first three keep working
  const int other = tcp_connect(port, "127.0.0.2");
  ASSERT_GE(other, 0);
  const auto answer = tcp_query(other, q);
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->answer.size(), 3u);
  ::close(other);
  for (int fd : own) EXPECT_TRUE(tcp_query(fd, q));
  // the cap counts open connections, it is not a ban: once one closes, the address gets a slot
  // again (as soon as the server has seen the close)
  ::close(own.back());
  own.pop_back();
  bool admitted = false;
  for (int attempt = 0; attempt < 200 && !admitted; ++attempt) {
    const int again = tcp_connect(port);
    admitted = again >= 0 && tcp_query(again, q).has_value();
    if (again >= 0) ::close(again);
  }
  EXPECT_TRUE(admitted);
  for (int fd : own) ::close(fd);
}

TEST_F(DnsServerTest, FullTcpServerClosesTheLeastRecentlyActiveConnection) {
  start({.listen = "127.0.0.1:0", .tcp = {.max_connections = 3}});
  const std::uint16_t port = server_->port();
  const auto q = query("game-server.local.", 1);
  // three busy connections fill the server; b is the one that asked least recently
  const int a = tcp_connect(port), b = tcp_connect(port), c = tcp_connect(port);
  ASSERT_TRUE(a >= 0 && b >= 0 && c >= 0);
  for (int fd : {a, b, c, a}) ASSERT_TRUE(tcp_query(fd, q));
  // a client falling back to TCP gets in and is answered: b makes room
  const int d = tcp_connect(port, "127.0.0.2");
  ASSERT_GE(d, 0);
  EXPECT_TRUE(tcp_query(d, q));
  EXPECT_TRUE(closed_by_server(b));
  EXPECT_TRUE(tcp_query(a, q));
  EXPECT_TRUE(tcp_query(c, q));
  EXPECT_EQ(server_->stats().tcp_evicted, 1u);
  for (int fd : {a, b, c, d}) ::close(fd);
}

TEST_F(DnsServerTest, TcpConnectionIsClosedAfterItsQueryBudget) {
  start({.listen = "127.0.0.1:0", .tcp = {.max_queries = 3}});
  const int fd = tcp_connect(server_->port());
  ASSERT_GE(fd, 0);
  for (std::uint16_t id = 1; id <= 3; ++id) {
    const auto r = tcp_query(fd, query("game-server.local.", 1, {.id = id}));
    ASSERT_TRUE(r) << id;
    EXPECT_EQ(r->id, id);
  }
  EXPECT_TRUE(closed_by_server(fd));  // after the third answer, not in the middle of one
  ::close(fd);
  EXPECT_EQ(server_->stats().tcp_spent, 1u);
  // the client reconnects, as RFC 7766 clients do, and is answered
  EXPECT_EQ(tcp_ask(server_->port(), {query("game-server.local.", 1)}).size(), 1u);
}

TEST_F(DnsServerTest, TcpConnectionThatKeepsQueryingIsClosedAtTheEndOfItsLifetime) {
  start({.listen = "127.0.0.1:0", .tcp = {.max_queries = 0, .max_lifetime = 100ms}});
  const int fd = tcp_connect(server_->port());
  ASSERT_GE(fd, 0);
  // every query before the end gets its whole answer; then the server closes (bounded loop: the
  // lifetime ends long before 100000 loopback round trips)
  int answered = 0;
  while (answered < 100000 && tcp_query(fd, query("game-server.local.", 1))) ++answered;
  EXPECT_GT(answered, 0);
  EXPECT_LT(answered, 100000);
  ::close(fd);
  EXPECT_EQ(server_->stats().tcp_spent, 1u);
}

TEST_F(DnsServerTest, StopIsIdempotent) {
  start({.listen = "127.0.0.1:0"});
  server_->stop();
  server_->stop();
}

TEST(AcceptBackoffTest, ResourceErrorsPauseAndAreLoggedOncePerEpisode) {
  using boost::system::error_code;
  using boost::system::system_category;
  AcceptBackoff b;
  struct Row {
    int error;  // 0: a connection was accepted
    bool pause;
    bool log;
    std::uint64_t ended;  // failures reported when a connection is accepted
  };
  const Row rows[] = {
      {EMFILE, true, true, 0},  // out of descriptors: pause, and say so once
      {EMFILE, true, false, 0},
      {ENFILE, true, false, 0},
      {ENOBUFS, true, false, 0},
      {0, false, false, 4},  // accepting again ends the episode: log how many failed
      {0, false, false, 0},
      {ECONNABORTED, false, false, 0},  // the pending connection failed:
                                        // retry at once, quietly
      {EPROTO, false, false, 0},
      {ENOMEM, true, true, 0},   // a new episode
      {EINVAL, true, false, 0},  // unknown errors pause too: retrying at once could spin
      {0, false, false, 2},
  };
  for (const Row& r : rows) {
    SCOPED_TRACE(r.error);
    if (r.error == 0) {
      EXPECT_EQ(b.accepted(), r.ended);
      continue;
    }
    const AcceptBackoff::Step step = b.failed(error_code(r.error, system_category()));
    EXPECT_EQ(step.pause, r.pause);
    EXPECT_EQ(step.log, r.log);
  }
}

// The listener out of file descriptors, for real: a forked child lowers RLIMIT_NOFILE, fills every
// free descriptor, lets a client connect, and drives the io_context by hand (no threads, no
// sleeps). Returns 0, or the number of the step that failed.
int accept_without_descriptors(std::chrono::milliseconds backoff, bool recover) {
  alarm(20);  // a stuck child must not hang the suite
  boost::asio::io_context io;
  core::SnapshotHolder holder;
  holder.publish(core::ZoneSnapshot::build(test::test_model()));
  DnsServer server(io, holder, {.listen = "127.0.0.1:0", .tcp = {.accept_backoff = backoff}});
  if (!server.start().ok()) return 1;
  const int client = ::socket(AF_INET, SOCK_STREAM, 0);
  if (client < 0) return 2;
  // Lower the limit just above what is open, then take every free slot below it.
  const int lowest_free = ::dup(0);
  ::close(lowest_free);
  rlimit rl{};
  ::getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = static_cast<rlim_t>(lowest_free + 8);
  if (::setrlimit(RLIMIT_NOFILE, &rl) != 0) return 3;
  std::vector<int> fillers;
  for (int fd; (fd = ::dup(0)) >= 0;) fillers.push_back(fd);
  if (errno != EMFILE) return 4;
  // The kernel completes the handshake; the server's accept() gets EMFILE.
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(server.port());
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(client, reinterpret_cast<sockaddr*>(&to), sizeof(to)) != 0) return 5;
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (server.stats().tcp_accept_errors == 0 && std::chrono::steady_clock::now() < deadline) {
    io.run_one_for(50ms);
  }
  if (server.stats().tcp_accept_errors != 1) return 6;
  if (!recover) {
    // Paused: nothing is ready until the backoff timer fires, so the loop does not run again.
    // (Without the pause every poll_one() would fail one more accept.)
    for (int i = 0; i < 100; ++i) io.poll_one();
    if (server.stats().tcp_accept_errors != 1) return 7;
    io.stop();  // so stop() closes here instead of posting to a loop nobody runs
    server.stop();
    return 0;
  }
  // Descriptors come back: after the pause the waiting client is accepted and answered.
  for (int fd : fillers) ::close(fd);
  const auto q = test::query("game-server.local.", 1);
  std::vector<std::uint8_t> framed = {0, static_cast<std::uint8_t>(q.size())};
  framed.insert(framed.end(), q.begin(), q.end());
  if (::send(client, framed.data(), framed.size(), 0) != static_cast<ssize_t>(framed.size())) {
    return 8;
  }
  std::vector<std::uint8_t> got;
  while (got.size() < 2 || got.size() < 2u + ((got[0] << 8) | got[1])) {
    if (std::chrono::steady_clock::now() >= deadline) return 9;
    io.run_one_for(50ms);
    std::uint8_t buf[1024];
    const ssize_t n = ::recv(client, buf, sizeof(buf), MSG_DONTWAIT);
    if (n == 0) return 10;
    if (n > 0) got.insert(got.end(), buf, buf + n);
  }
  if (parse({got.data() + 2, got.size() - 2}).answer.size() != 3) return 11;
  io.stop();
  server.stop();
  return 0;
}

int in_child(std::chrono::milliseconds backoff, bool recover) {
  const pid_t pid = ::fork();
  if (pid == 0) ::_exit(accept_without_descriptors(backoff, recover));
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status);
}

TEST(TcpAcceptTest, OutOfDescriptorsTheListenerPausesInsteadOfSpinning) {
  EXPECT_EQ(in_child(std::chrono::hours(1), /*recover=*/false), 0);
}

TEST(TcpAcceptTest, OutOfDescriptorsTheListenerAcceptsAgainAfterThePause) {
  EXPECT_EQ(in_child(10ms, /*recover=*/true), 0);
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
