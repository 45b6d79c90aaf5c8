#include "dns/forwarder.hpp"

#include <boost/asio/post.hpp>
#include <random>

#include "dns/responder.hpp"
#include "emulator/log/log.hpp"

namespace emu::dns {

namespace asio = boost::asio;
using asio::ip::udp;

Forwarder::Forwarder(asio::io_context& io, udp::endpoint upstream,
                     std::chrono::milliseconds timeout)
    : io_(io),
      upstream_(std::move(upstream)),
      timeout_(timeout),
      socket_(io),
      buf_(kMaxMessage),
      rng_(std::random_device{}()) {}

Result<void> Forwarder::start() {
  boost::system::error_code ec;
  socket_.open(upstream_.protocol(), ec);
  if (!ec) socket_.bind(udp::endpoint(upstream_.protocol(), 0), ec);
  if (ec) return Error{Code::Unavailable, "dns forwarder socket: " + ec.message()};
  do_receive();
  return {};
}

void Forwarder::stop() {
  stopped_ = true;
  boost::system::error_code ec;
  socket_.close(ec);
  for (auto& [id, p] : pending_) p.timer->cancel();
  pending_.clear();
}

void Forwarder::forward(std::vector<std::uint8_t> packet, const Query& query, Reply reply) {
  asio::post(io_, [self = shared_from_this(), packet = std::move(packet), query,
                   reply = std::move(reply)]() mutable {
    self->do_forward(std::move(packet), query, std::move(reply));
  });
}

void Forwarder::servfail(const Query& query, const Reply& reply) {
  std::array<std::uint8_t, 600> out;
  Query q = query;
  q.transport = Transport::Tcp;  // the error answer is small; do not let 512 drop the question
  const Response r = answer_error(q, Rcode::ServFail, out);
  if (r.action == Action::Send) reply({out.data(), r.size});
}

void Forwarder::truncated(const Query& query, const Reply& reply) {
  std::array<std::uint8_t, 600> out;
  const Response r = answer_error(query, Rcode::NoError, out);
  if (r.action != Action::Send) return;
  out[2] |= 0x02;  // TC: the client asks again over TCP
  reply({out.data(), r.size});
}

void Forwarder::do_forward(std::vector<std::uint8_t> packet, const Query& query, Reply reply) {
  if (stopped_) return;
  if (packet.size() < 12 || pending_.size() >= kMaxPending) return servfail(query, reply);
  // A fresh id the upstream sees, so answers cannot be matched by guessing the client's id.
  std::uint16_t id;
  do {
    id = static_cast<std::uint16_t>(rng_.next());
  } while (pending_.count(id) != 0);
  packet[0] = static_cast<std::uint8_t>(id >> 8);
  packet[1] = static_cast<std::uint8_t>(id);
  boost::system::error_code ec;
  socket_.send_to(asio::buffer(packet), upstream_, 0, ec);
  if (ec) {
    log::warn("dns", "forward failed",
              {{"upstream", upstream_.address().to_string()}, {"error", ec.message()}});
    return servfail(query, reply);
  }
  Pending p;
  p.client_id = query.id;
  p.query = query;
  p.reply = std::move(reply);
  p.timer = std::make_unique<asio::steady_timer>(io_, timeout_);
  p.timer->async_wait([self = shared_from_this(), id](const boost::system::error_code& e) {
    self->on_timeout(id, e);
  });
  pending_.emplace(id, std::move(p));
}

void Forwarder::on_timeout(std::uint16_t id, const boost::system::error_code& ec) {
  if (ec == asio::error::operation_aborted || stopped_) return;
  auto it = pending_.find(id);
  if (it == pending_.end()) return;
  Pending p = std::move(it->second);
  pending_.erase(it);
  servfail(p.query, p.reply);  // SPEC 4: SERVFAIL when the upstream does not answer
}

void Forwarder::do_receive() {
  socket_.async_receive_from(
      asio::buffer(buf_), sender_,
      [self = shared_from_this()](const boost::system::error_code& ec, std::size_t n) {
        self->on_receive(ec, n);
      });
}

void Forwarder::on_receive(const boost::system::error_code& ec, std::size_t n) {
  if (ec == asio::error::operation_aborted || stopped_) return;
  if (!ec && n >= 12 && sender_ == upstream_ && (buf_[2] & 0x80) != 0) {
    const auto id = static_cast<std::uint16_t>((buf_[0] << 8) | buf_[1]);
    auto it = pending_.find(id);
    if (it != pending_.end()) {
      Pending p = std::move(it->second);
      pending_.erase(it);
      p.timer->cancel();
      if (n > p.query.max_response()) {
        // An upstream that ignores the client's UDP size must not make us exceed it.
        truncated(p.query, p.reply);
      } else {
        buf_[0] = static_cast<std::uint8_t>(p.client_id >> 8);
        buf_[1] = static_cast<std::uint8_t>(p.client_id);
        p.reply({buf_.data(), n});
      }
    }
  }
  do_receive();
}

}  // namespace emu::dns
