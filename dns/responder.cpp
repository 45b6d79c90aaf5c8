#include "dns/responder.hpp"

#include <algorithm>
#include <array>
#include <utility>

#include "dns/wire_writer.hpp"

namespace emu::dns {
namespace {

using core::ZoneSnapshot;
using Node = ZoneSnapshot::Node;
using Zone = ZoneSnapshot::Zone;

constexpr std::size_t kHeader = 12;
constexpr std::size_t kOptSize = 11;  // root name, type, class, ttl, rdlength 0
constexpr std::uint16_t kPointerToQname = 0xC000 | kHeader;
constexpr std::size_t kMaxSrvShuffle = 4096;  // more SRV records never fit in 64 KiB anyway
constexpr std::size_t kMaxAdditional = 4096;

// Header bytes 2 and 3.
constexpr std::uint8_t kQr = 0x80;
constexpr std::uint8_t kAa = 0x04;
constexpr std::uint8_t kTc = 0x02;
constexpr std::uint8_t kRd = 0x01;
constexpr std::uint8_t kCd = 0x10;

// Writes the header (counts zero) and, when parsed, the question as asked. Returns false only
// when even that does not fit (never with a 512-byte limit).
bool write_head(WireWriter& w, const Query& q, Rcode rcode, bool aa) {
  const std::size_t question = q.question_ok ? q.qname_len + 4u : 0u;
  if (!w.fits(kHeader + question)) return false;
  w.put16(q.id);
  w.put8(static_cast<std::uint8_t>(kQr | (q.opcode << 3) | (aa ? kAa : 0) | (q.rd ? kRd : 0)));
  w.put8(static_cast<std::uint8_t>((q.cd ? kCd : 0) | (static_cast<std::uint16_t>(rcode) & 0x0f)));
  w.put16(q.question_ok ? 1 : 0);
  w.put16(0);
  w.put16(0);
  w.put16(0);
  if (q.question_ok) {
    w.put(q.original.data(), q.qname_len);
    w.put16(q.qtype);
    w.put16(q.qclass);
  }
  return true;
}

// RFC 6891: our OPT, with the upper bits of an extended rcode and the client's DO bit echoed.
void write_opt(WireWriter& w, const Query& q, Rcode rcode) {
  w.put8(0);
  w.put16(static_cast<std::uint16_t>(RrType::Opt));
  w.put16(kOurUdpSize);
  w.put8(static_cast<std::uint8_t>(static_cast<std::uint16_t>(rcode) >> 4));
  w.put8(0);  // version
  w.put16(q.dnssec_ok ? 0x8000 : 0);
  w.put16(0);
}

// Picks the indices of the values to answer: all (<= 8) or a random 8 (Floyd's sampling), in a
// random order; WEIGHTED picks one. Returns how many.
std::uint32_t pick(std::uint32_t n, core::Routing routing, Rng& rng,
                   std::array<std::uint32_t, kMaxMultivalue>& out) {
  if (n == 0) return 0;
  if (routing == core::Routing::Weighted) {
    out[0] = rng.below(n);
    return 1;
  }
  const std::uint32_t k = std::min(n, kMaxMultivalue);
  if (n <= kMaxMultivalue) {
    for (std::uint32_t i = 0; i < n; ++i) out[i] = i;
  } else {
    std::uint32_t m = 0;
    for (std::uint32_t j = n - k; j < n; ++j) {
      const std::uint32_t t = rng.below(j + 1);
      const bool seen = std::find(out.begin(), out.begin() + m, t) != out.begin() + m;
      out[m++] = seen ? j : t;
    }
  }
  for (std::uint32_t i = k - 1; i > 0; --i) std::swap(out[i], out[rng.below(i + 1)]);
  return k;
}

class Builder {
 public:
  Builder(const Query& q, Rng& rng, WireWriter& w)
      : rng_(rng), w_(w), udp_(q.transport == Transport::Udp) {
    reserve_ = q.edns ? kOptSize : 0;
  }

  // Answer-section writers: false when the record does not fit (the caller truncates).
  template <typename Addr>
  bool addresses(const Node& node, const std::vector<Addr>& healthy,
                 const std::vector<Addr>& unhealthy, const std::array<std::uint8_t, 10>& head) {
    // Route 53 fail-open: when no value is healthy, answer the unhealthy ones.
    const auto& pool = healthy.empty() ? unhealthy : healthy;
    std::array<std::uint32_t, kMaxMultivalue> idx;
    const std::uint32_t k = pick(static_cast<std::uint32_t>(pool.size()), node.routing, rng_, idx);
    const std::size_t rr = 2 + head.size() + sizeof(Addr);
    if (!w_.fits(rr * k, reserve_)) return false;
    for (std::uint32_t i = 0; i < k; ++i) {
      w_.put16(owner_);
      w_.put(head.data(), head.size());
      w_.put(pool[idx[i]].data(), sizeof(Addr));
    }
    ancount_ += k;
    return true;
  }

  bool srv(const Node& node) {
    const auto& pool = node.srv_healthy.empty() ? node.srv_unhealthy : node.srv_healthy;
    const auto n = static_cast<std::uint32_t>(pool.size());
    if (n == 0) return true;
    if (node.routing == core::Routing::Weighted) {
      return srv_one(*pool[rng_.below(n)]);
    }
    if (udp_) {
      // Over UDP at most 8, a random 8 in a random order, like A/AAAA (Route 53 answers at most
      // 8): a few query bytes must not bring kilobytes out. TC=1 when some were left out, so the
      // client retries over TCP, where it gets all of them.
      std::array<std::uint32_t, kMaxMultivalue> idx;
      const std::uint32_t k = pick(n, core::Routing::Multivalue, rng_, idx);
      for (std::uint32_t i = 0; i < k; ++i) {
        if (!srv_one(*pool[idx[i]])) return false;
      }
      partial_ = partial_ || k < n;
      return true;
    }
    // TCP: all of them (capped by the message size, not by 8), in a random order.
    const std::uint32_t k = static_cast<std::uint32_t>(std::min<std::size_t>(n, kMaxSrvShuffle));
    const std::uint32_t start = n > k ? rng_.below(n) : 0;
    std::array<std::uint32_t, kMaxSrvShuffle> idx;
    for (std::uint32_t i = 0; i < k; ++i) idx[i] = (start + i) % n;
    for (std::uint32_t i = k - 1; i > 0; --i) std::swap(idx[i], idx[rng_.below(i + 1)]);
    for (std::uint32_t i = 0; i < k; ++i) {
      if (!srv_one(*pool[idx[i]])) return false;
    }
    return true;
  }

  bool soa(const Zone& zone, std::uint16_t owner_ptr, bool negative) {
    const std::string& tail = negative ? zone.soa_negative_tail : zone.soa_tail;
    if (!w_.fits(2 + tail.size(), reserve_)) return false;
    w_.put16(owner_ptr);
    w_.put(tail.data(), tail.size());
    return true;
  }

  bool ns(const Zone& zone) {
    std::size_t total = 0;
    for (const auto& t : zone.ns_tails) total += 2 + t.size();
    if (!w_.fits(total, reserve_)) return false;
    for (const auto& t : zone.ns_tails) {
      w_.put16(kPointerToQname);
      w_.put(t.data(), t.size());
    }
    ancount_ += 4;
    return true;
  }

  // SRV targets' A/AAAA in the additional section, as many as fit (never TC for these).
  void glue() {
    for (std::uint32_t i = 0; i < targets_; ++i) {
      const Node& t = *target_node_[i];
      const std::uint16_t off = target_off_[i];
      if (t.has_a && !add_glue(t, off, t.a_head, t.a_healthy.front().data(), 4)) return;
      if (t.has_aaaa && !add_glue(t, off, t.aaaa_head, t.aaaa_healthy.front().data(), 16)) return;
    }
  }

  // The user's record set (Route 53): simple = its records; weighted = one set chosen by weight
  // (all zero: any, equally); multivalue = up to 8 sets, in a random order.
  bool user(const ZoneSnapshot::UserSet& u) {
    const auto n = static_cast<std::uint32_t>(u.choices.size());
    if (n == 0) return true;
    std::array<std::uint32_t, kMaxMultivalue> idx;
    std::uint32_t k = 0;
    if (u.routing == core::Routing::Weighted) {
      std::uint64_t total = 0;
      for (const auto& c : u.choices) total += c.weight;
      idx[0] = 0;
      if (total == 0) {
        idx[0] = rng_.below(n);
      } else {
        std::uint64_t r =
            rng_.below(static_cast<std::uint32_t>(std::min<std::uint64_t>(total, 0xffffffffu)));
        for (std::uint32_t i = 0; i < n; ++i) {
          if (r < u.choices[i].weight) {
            idx[0] = i;
            break;
          }
          r -= u.choices[i].weight;
        }
      }
      k = 1;
    } else {
      k = pick(n, core::Routing::Multivalue, rng_, idx);
    }
    for (std::uint32_t i = 0; i < k; ++i) {
      for (const auto& tail : u.choices[idx[i]].tails) {
        if (!w_.fits(2 + tail.size(), reserve_)) return false;
        last_rr_ = w_.size();
        w_.put16(owner_);
        w_.put(tail.data(), tail.size());
        ++ancount_;
      }
    }
    return true;
  }

  /// Answers further records at the target of the CNAME just written (its rdata is the name).
  void follow_last_cname() {
    const std::size_t target = last_rr_ + 2 + 10;
    owner_ = target <= 0x3fff ? static_cast<std::uint16_t>(0xC000 | target) : kPointerToQname;
  }

  std::uint16_t owner_ = kPointerToQname;  ///< the owner of records written (a pointer)
  std::size_t last_rr_ = 0;                ///< where the last user record starts
  std::uint16_t ancount_ = 0;
  std::uint16_t nscount_ = 0;
  std::uint16_t arcount_ = 0;
  bool partial_ = false;  ///< records were left out on purpose (the UDP SRV cap): TC=1

 private:
  bool srv_one(const ZoneSnapshot::Srv& s) {
    if (!w_.fits(2 + s.tail.size(), reserve_)) return false;
    const std::size_t at = w_.size();
    w_.put16(owner_);
    w_.put(s.tail.data(), s.tail.size());
    ++ancount_;
    if (targets_ < kMaxAdditional) {
      const std::size_t target = at + 2 + s.target_offset;
      target_off_[targets_] = target <= 0x3fff ? static_cast<std::uint16_t>(target) : 0;
      target_node_[targets_] = s.target;
      ++targets_;
    }
    return true;
  }

  bool add_glue(const Node& t, std::uint16_t off, const std::array<std::uint8_t, 10>& head,
                const std::uint8_t* rdata, std::size_t len) {
    const std::size_t owner = off != 0 ? 2 : t.owner.size();
    if (!w_.fits(owner + head.size() + len, reserve_)) return false;
    if (off != 0) {
      w_.put16(static_cast<std::uint16_t>(0xC000 | off));
    } else {
      w_.put(t.owner.data(), t.owner.size());
    }
    w_.put(head.data(), head.size());
    w_.put(rdata, len);
    ++arcount_;
    return true;
  }

  Rng& rng_;
  WireWriter& w_;
  bool udp_ = true;
  std::size_t reserve_ = 0;
  std::uint32_t targets_ = 0;
  std::array<std::uint16_t, kMaxAdditional> target_off_;
  std::array<const Node*, kMaxAdditional> target_node_;
};

Response finish(WireWriter& w, const Query& q, Rcode rcode, Builder& b, bool truncated) {
  if (truncated) w.at(2) |= kTc;
  w.at(3) =
      static_cast<std::uint8_t>((w.at(3) & 0xf0) | (static_cast<std::uint16_t>(rcode) & 0x0f));
  w.set16(6, b.ancount_);
  w.set16(8, b.nscount_);
  std::uint16_t ar = b.arcount_;
  if (q.edns && w.fits(kOptSize)) {
    write_opt(w, q, rcode);
    ++ar;
  }
  w.set16(10, ar);
  return {Action::Send, w.size(), rcode, truncated};
}

// The records of `qtype` at `node`: Cloud Map's pools and the user's record sets.
bool answer_type(Builder& b, const Node& node, RrType qtype, bool& glue) {
  bool fits = true;
  switch (qtype) {
    case RrType::A:
      if (node.has_a) fits = b.addresses(node, node.a_healthy, node.a_unhealthy, node.a_head);
      break;
    case RrType::Aaaa:
      if (node.has_aaaa)
        fits = b.addresses(node, node.aaaa_healthy, node.aaaa_unhealthy, node.aaaa_head);
      break;
    case RrType::Srv:
      if (node.has_srv) {
        fits = b.srv(node);
        glue = true;
      }
      break;
    default:
      break;
  }
  if (fits) {
    if (const auto* u = node.user_set(static_cast<std::uint16_t>(qtype))) fits = b.user(*u);
  }
  return fits;
}

constexpr std::uint16_t kTypeCname = 5;
constexpr int kMaxCnameChain = 8;

// A CNAME of the user's at `node` (and the question is not for it): the CNAME, then what its
// target in the same zone has of the type asked, up to kMaxCnameChain links.
bool answer_cname(Builder& b, const ZoneSnapshot& zones, const Node* node, RrType qtype,
                  bool& glue) {
  for (int link = 0; link < kMaxCnameChain && node != nullptr; ++link) {
    const auto* cname = node->user_set(kTypeCname);
    if (cname == nullptr) return answer_type(b, *node, qtype, glue);
    if (cname->choices.empty() || cname->choices[0].tails.empty()) return true;
    if (!b.user(*cname)) return false;
    b.follow_last_cname();
    const std::string& tail = cname->choices[0].tails[0];
    const auto* rdata = reinterpret_cast<const std::uint8_t*>(tail.data()) + 10;
    const Node* next = zones.find({rdata, tail.size() - 10});
    if (next == nullptr || next->zone != node->zone) return true;  // outside: the client chases
    node = next;
  }
  return true;
}

}  // namespace

Response answer_error(const Query& q, Rcode rcode, std::span<std::uint8_t> out) {
  WireWriter w(out, q.max_response());
  Query head = q;
  if (!write_head(w, head, rcode, false)) {
    head.question_ok = false;
    w.rewind(0);
    if (!write_head(w, head, rcode, false)) return {};
  }
  std::uint16_t ar = 0;
  if (q.edns && w.fits(kOptSize)) {
    write_opt(w, q, rcode);
    ar = 1;
  }
  w.set16(10, ar);
  return {Action::Send, w.size(), rcode, false};
}

Response answer(const Query& q, const ZoneSnapshot* zones, Rng& rng, std::span<std::uint8_t> out,
                bool forwarding) {
  // Only IN is served; CH/HS/ANY class queries (version.bind and friends) are refused.
  if (q.qclass != kClassIn) return answer_error(q, Rcode::Refused, out);
  const ZoneSnapshot::Lookup found =
      zones != nullptr ? zones->lookup(q.name()) : ZoneSnapshot::Lookup{};
  if (found.zone == nullptr) {
    if (forwarding) return {Action::Forward, 0, Rcode::NoError, false};
    return answer_error(q, Rcode::Refused, out);  // CoreDNS file plugin: not our zone
  }
  const auto qtype = static_cast<RrType>(q.qtype);
  if (qtype == RrType::Axfr || qtype == RrType::Ixfr) return answer_error(q, Rcode::Refused, out);

  WireWriter w(out, q.max_response());
  if (!write_head(w, q, Rcode::NoError, true)) return {};
  const std::size_t after_question = w.size();
  Builder b(q, rng, w);
  const Zone& zone = *found.zone;
  const Node* node = found.node;
  // The apex is a suffix of the question name: point at it there.
  const auto apex_ptr =
      static_cast<std::uint16_t>(0xC000 | (kHeader + q.qname_len - zone.apex.size()));

  Rcode rcode = Rcode::NoError;
  bool fits = true;
  bool negative = false;
  bool glue = false;
  if (node == nullptr) {
    rcode = Rcode::NxDomain;
    negative = true;
  } else {
    const bool apex = node->kind == ZoneSnapshot::Kind::Apex;
    const bool cname_here = node->user_set(kTypeCname) != nullptr;
    switch (qtype) {
      case RrType::Soa:
        if (apex) {
          fits = b.soa(zone, kPointerToQname, false);
          if (fits) ++b.ancount_;
        }
        break;
      case RrType::Ns:
        if (apex) {
          fits = b.ns(zone);
        } else {
          fits = answer_type(b, *node, qtype, glue);
        }
        break;
      case RrType::Any:
        // We answer everything that exists at the name (not the RFC 8482 minimal answer).
        if (apex) {
          fits = b.soa(zone, kPointerToQname, false);
          if (fits) ++b.ancount_;
          fits = fits && b.ns(zone);
        } else {
          if (node->has_a)
            fits = b.addresses(*node, node->a_healthy, node->a_unhealthy, node->a_head);
          if (fits && node->has_aaaa) {
            fits = b.addresses(*node, node->aaaa_healthy, node->aaaa_unhealthy, node->aaaa_head);
          }
          if (fits && node->has_srv) fits = b.srv(*node);
        }
        for (const auto& u : node->user) {
          if (fits) fits = b.user(u);
        }
        break;
      default:
        if (cname_here && q.qtype != kTypeCname) {
          fits = answer_cname(b, *zones, node, qtype, glue);
        } else {
          fits = answer_type(b, *node, qtype, glue);
        }
        break;
    }
    negative = fits && b.ancount_ == 0;  // NODATA: the name exists, the type does not
  }

  if (fits && negative) {
    // RFC 2308: negative answers carry the SOA, TTL = min(SOA TTL, MINIMUM).
    fits = b.soa(zone, apex_ptr, true);
    if (fits) ++b.nscount_;
  }
  if (!fits) {
    // Never a silently shortened answer: question only, TC=1 (the client retries over TCP).
    w.rewind(after_question);
    b.ancount_ = b.nscount_ = b.arcount_ = 0;
    return finish(w, q, rcode, b, true);
  }
  if (glue) b.glue();
  return finish(w, q, rcode, b, b.partial_);
}

}  // namespace emu::dns
