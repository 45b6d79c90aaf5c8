#include "dns/wire.hpp"

#include <ldns/ldns.h>

#include <algorithm>

namespace emu::dns {
namespace {

constexpr std::size_t kHeader = 12;

std::uint16_t get16(const std::uint8_t* p) {
  return static_cast<std::uint16_t>((std::uint16_t{p[0]} << 8) | p[1]);
}

// The header fields every response echoes. Returns false when the packet is to be dropped.
bool read_header(std::span<const std::uint8_t> p, Query& q) {
  if (p.size() < kHeader) return false;  // PowerDNS: no header, no answer
  if ((p[2] & 0x80) != 0) return false;  // a response: answering it could start a loop
  q.id = get16(p.data());
  q.opcode = static_cast<std::uint8_t>((p[2] >> 3) & 0x0f);
  q.rd = (p[2] & 0x01) != 0;
  q.cd = (p[3] & 0x10) != 0;
  q.question_ok = false;
  q.edns = false;
  q.dnssec_ok = false;
  q.edns_version = 0;
  q.udp_size = kClassicUdpSize;
  q.qname_len = 0;
  return true;
}

// The question starts right after the header, so its name cannot legally hold a compression
// pointer (there is nothing before it to point at). Returns the offset after the question, or 0.
std::size_t read_question(std::span<const std::uint8_t> p, Query& q) {
  std::size_t pos = kHeader;
  std::size_t len = 0;
  for (;;) {
    if (pos >= p.size()) return 0;
    const std::uint8_t c = p[pos];
    if (c == 0) break;
    if ((c & 0xc0) != 0) return 0;             // pointer or extended label type
    if (len + 1 + c + 1 > kMaxName) return 0;  // RFC 1035: names are at most 255 octets
    if (pos + 1 + c >= p.size()) return 0;
    q.qname[len] = c;
    q.original[len] = c;
    ++len;
    ++pos;
    for (std::uint8_t i = 0; i < c; ++i, ++pos, ++len) {
      const std::uint8_t b = p[pos];
      q.original[len] = b;
      q.qname[len] = (b >= 'A' && b <= 'Z') ? static_cast<std::uint8_t>(b | 0x20) : b;
    }
  }
  q.qname[len] = 0;
  q.original[len] = 0;
  ++len;
  ++pos;
  if (pos + 4 > p.size()) return 0;
  q.qname_len = static_cast<std::uint8_t>(len);
  q.qtype = get16(p.data() + pos);
  q.qclass = get16(p.data() + pos + 2);
  q.question_ok = true;
  return pos + 4;
}

// Skips the name at `pos` (labels ending in the root label or in a compression pointer). Returns
// the offset after it, or 0 when it runs past the end or uses an unknown label type. `root` says
// whether the name is the root: a zero octet, or a pointer straight to one.
std::size_t skip_name(std::span<const std::uint8_t> p, std::size_t pos, bool& root) {
  root = false;
  for (bool first = true;; first = false) {
    if (pos >= p.size()) return 0;
    const std::uint8_t c = p[pos];
    if (c == 0) {
      root = first;
      return pos + 1;
    }
    if ((c & 0xc0) == 0xc0) {
      if (pos + 2 > p.size()) return 0;
      const std::size_t target = (std::size_t{c & 0x3fu} << 8) | p[pos + 1];
      root = first && target < p.size() && p[target] == 0;
      return pos + 2;
    }
    if ((c & 0xc0) != 0) return 0;
    pos += 1 + c;
  }
}

// RFC 6891 6.1.1: a message carries at most one OPT, in the additional section, owned by the root
// (BIND and Knot answer FORMERR otherwise). ldns takes whichever OPT it meets last and ignores its
// owner, so the slow path walks the records after the question itself.
// RFC 8945 5.1.1: a TSIG is the last record of the additional section, and there is at most one
// (FORMERR otherwise). This walk runs before ldns sees the message: ldns 1.8 leaks the earlier
// TSIG when a message carries two (found by the DNS fuzzer).
constexpr std::uint16_t kTsig = 250;

bool placement_ok(std::span<const std::uint8_t> p, std::size_t pos) {
  const std::uint32_t before_additional = std::uint32_t{get16(p.data() + 6)} + get16(p.data() + 8);
  const std::uint32_t total = before_additional + get16(p.data() + 10);
  bool seen_opt = false;
  for (std::uint32_t i = 0; i < total; ++i) {
    bool root = false;
    pos = skip_name(p, pos, root);
    if (pos == 0 || pos + 10 > p.size()) return false;
    const std::uint16_t type = get16(p.data() + pos);
    pos += 10 + std::size_t{get16(p.data() + pos + 8)};
    if (pos > p.size()) return false;
    if (type == kTsig && i + 1 != total) return false;
    if (type != static_cast<std::uint16_t>(RrType::Opt)) continue;
    if (i < before_additional || !root || seen_opt) return false;
    seen_opt = true;
  }
  return true;
}

void set_edns(Query& q, std::uint16_t udp_size, std::uint8_t version, bool dnssec_ok) {
  q.edns = true;
  q.udp_size = std::max(udp_size, kClassicUdpSize);  // RFC 6891: below 512 means 512
  q.edns_version = version;
  q.dnssec_ok = dnssec_ok;
}

}  // namespace

DecodeStatus decode(std::span<const std::uint8_t> p, Query& q) {
  if (!read_header(p, q)) return DecodeStatus::Drop;
  if (q.opcode != 0) return DecodeStatus::NotImp;
  const std::uint16_t qd = get16(p.data() + 4);
  const std::uint16_t an = get16(p.data() + 6);
  const std::uint16_t ns = get16(p.data() + 8);
  const std::uint16_t ar = get16(p.data() + 10);
  if (qd != 1) return DecodeStatus::FormErr;
  const std::size_t pos = read_question(p, q);
  if (pos == 0) return DecodeStatus::FormErr;
  if (q.qtype == static_cast<std::uint16_t>(RrType::Opt)) return DecodeStatus::FormErr;
  if (an != 0 || ns != 0 || ar > 1) return decode_with_ldns(p, q);
  if (ar == 0) return DecodeStatus::Ok;

  // One additional record: the fast path knows only an OPT owned by the root. Any other owner
  // goes to the slow path, which answers FORMERR when the record is an OPT (RFC 6891 6.1.1).
  if (pos + 11 > p.size()) return DecodeStatus::FormErr;
  const std::uint8_t* rr = p.data() + pos;
  if (rr[0] != 0 || get16(rr + 1) != static_cast<std::uint16_t>(RrType::Opt)) {
    return decode_with_ldns(p, q);
  }
  const std::uint16_t rdlen = get16(rr + 9);
  if (pos + 11 + rdlen > p.size()) return DecodeStatus::FormErr;
  // Options are code, length, data; each must lie inside the rdata.
  std::size_t o = 0;
  while (o < rdlen) {
    if (o + 4 > rdlen) return DecodeStatus::FormErr;
    o += 4 + get16(rr + 11 + o + 2);
  }
  if (o != rdlen) return DecodeStatus::FormErr;
  set_edns(q, get16(rr + 3), rr[6], (rr[7] & 0x80) != 0);
  return q.edns_version != 0 ? DecodeStatus::BadVers : DecodeStatus::Ok;
}

DecodeStatus decode_with_ldns(std::span<const std::uint8_t> p, Query& q) {
  if (!read_header(p, q)) return DecodeStatus::Drop;
  if (q.opcode != 0) return DecodeStatus::NotImp;
  if (get16(p.data() + 4) != 1) return DecodeStatus::FormErr;
  // The question is read by our own code (to keep its original bytes); ldns checks the rest.
  const std::size_t pos = read_question(p, q);
  if (pos == 0) return DecodeStatus::FormErr;
  if (!placement_ok(p, pos)) return DecodeStatus::FormErr;
  ldns_pkt* pkt = nullptr;
  if (ldns_wire2pkt(&pkt, p.data(), p.size()) != LDNS_STATUS_OK || pkt == nullptr) {
    return DecodeStatus::FormErr;
  }
  const bool edns = ldns_pkt_edns(pkt);
  const std::uint16_t udp = ldns_pkt_edns_udp_size(pkt);
  const std::uint8_t version = ldns_pkt_edns_version(pkt);
  const bool dnssec_ok = ldns_pkt_edns_do(pkt);
  ldns_pkt_free(pkt);
  if (edns) {
    set_edns(q, udp, version, dnssec_ok);
    if (version != 0) return DecodeStatus::BadVers;
  }
  return DecodeStatus::Ok;
}

}  // namespace emu::dns
