#pragma once
// Helpers for the DNS tests: build query bytes by hand, parse every response back with ldns (a
// second, independent decoder: PowerDNS-style round trips), and a test zone.

#include <algorithm>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "emulator/core/zone_model.hpp"
#include "emulator/core/zone_snapshot.hpp"
#include "tests/support/zone_fixtures.hpp"

// ldns last: under clang its common.h macros (bool) break libstdc++ headers included after it.
#include <ldns/ldns.h>

namespace emu::dns::test {

/// Options of a hand-built query.
struct QueryOpts {
  std::uint16_t id = 0x1234;
  std::uint16_t qclass = 1;
  bool rd = true;
  std::uint8_t opcode = 0;
  bool edns = false;
  std::uint16_t udp_size = 1232;
  std::uint8_t version = 0;
  bool dnssec_ok = false;
};

/// A query in wire format. `name` keeps its case.
inline std::vector<std::uint8_t> query(const std::string& name, std::uint16_t type,
                                       QueryOpts o = {}) {
  std::vector<std::uint8_t> q = {static_cast<std::uint8_t>(o.id >> 8),
                                 static_cast<std::uint8_t>(o.id),
                                 static_cast<std::uint8_t>((o.opcode << 3) | (o.rd ? 1 : 0)),
                                 0,
                                 0,
                                 1,
                                 0,
                                 0,
                                 0,
                                 0,
                                 0,
                                 static_cast<std::uint8_t>(o.edns ? 1 : 0)};
  std::string n = name;
  if (!n.empty() && n.back() == '.') n.pop_back();
  std::size_t start = 0;
  while (start < n.size()) {
    std::size_t dot = n.find('.', start);
    if (dot == std::string::npos) dot = n.size();
    q.push_back(static_cast<std::uint8_t>(dot - start));
    q.insert(q.end(), n.begin() + static_cast<long>(start), n.begin() + static_cast<long>(dot));
    start = dot + 1;
  }
  q.push_back(0);
  q.insert(q.end(),
           {static_cast<std::uint8_t>(type >> 8), static_cast<std::uint8_t>(type),
            static_cast<std::uint8_t>(o.qclass >> 8), static_cast<std::uint8_t>(o.qclass)});
  if (o.edns) {
    q.insert(q.end(), {0, 0, 41, static_cast<std::uint8_t>(o.udp_size >> 8),
                       static_cast<std::uint8_t>(o.udp_size), 0, o.version,
                       static_cast<std::uint8_t>(o.dnssec_ok ? 0x80 : 0), 0, 0, 0});
  }
  return q;
}

/// A response as ldns sees it; records as "owner ttl class type rdata" with single spaces.
struct Parsed {
  bool ok = false;
  std::uint16_t id = 0;
  bool qr = false, aa = false, tc = false, rd = false, ra = false;
  int rcode = 0;  ///< including the extended bits from the OPT record
  std::uint8_t opcode = 0;
  std::vector<std::string> question, answer, authority, additional;
  bool edns = false;
  std::uint16_t udp_size = 0;
  bool dnssec_ok = false;
};

inline std::string rr_text(const ldns_rr* rr, bool question = false) {
  char* s = question ? ldns_rr2str(rr) : ldns_rr2str(rr);
  std::string out = s != nullptr ? s : "";
  free(s);
  std::string norm;
  bool space = false;
  for (char c : out) {
    if (c == '\t' || c == ' ' || c == '\n') {
      space = true;
      continue;
    }
    if (space && !norm.empty()) norm.push_back(' ');
    space = false;
    norm.push_back(c);
  }
  return norm;
}

inline std::vector<std::string> section(const ldns_rr_list* list, bool question = false) {
  std::vector<std::string> out;
  for (std::size_t i = 0; list != nullptr && i < ldns_rr_list_rr_count(list); ++i) {
    out.push_back(rr_text(ldns_rr_list_rr(list, i), question));
  }
  return out;
}

/// Parses a response with ldns; ok=false when ldns rejects it.
inline Parsed parse(std::span<const std::uint8_t> bytes) {
  Parsed p;
  ldns_pkt* pkt = nullptr;
  if (ldns_wire2pkt(&pkt, bytes.data(), bytes.size()) != LDNS_STATUS_OK) return p;
  p.ok = true;
  p.id = ldns_pkt_id(pkt);
  p.qr = ldns_pkt_qr(pkt);
  p.aa = ldns_pkt_aa(pkt);
  p.tc = ldns_pkt_tc(pkt);
  p.rd = ldns_pkt_rd(pkt);
  p.ra = ldns_pkt_ra(pkt);
  p.opcode = static_cast<std::uint8_t>(ldns_pkt_get_opcode(pkt));
  p.edns = ldns_pkt_edns(pkt);
  p.rcode = static_cast<int>(ldns_pkt_get_rcode(pkt)) | (ldns_pkt_edns_extended_rcode(pkt) << 4);
  p.udp_size = ldns_pkt_edns_udp_size(pkt);
  p.dnssec_ok = ldns_pkt_edns_do(pkt);
  p.question = section(ldns_pkt_question(pkt), true);
  p.answer = section(ldns_pkt_answer(pkt));
  p.authority = section(ldns_pkt_authority(pkt));
  p.additional = section(ldns_pkt_additional(pkt));
  ldns_pkt_free(pkt);
  return p;
}

/// Sorted copy (answer order is random by design).
inline std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

}  // namespace emu::dns::test
