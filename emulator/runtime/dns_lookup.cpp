#include "emulator/runtime/dns_lookup.hpp"

#include <ldns/ldns.h>

#include <array>
#include <memory>
#include <vector>

#include "dns/message.hpp"
#include "dns/pipeline.hpp"
#include "dns/rng.hpp"
#include "emulator/core/zone_snapshot.hpp"

namespace emu::runtime {
namespace {

struct PktFree {
  void operator()(ldns_pkt* p) const { ldns_pkt_free(p); }
};
using Pkt = std::unique_ptr<ldns_pkt, PktFree>;

std::string rdf_text(const ldns_rr* rr) {
  std::string out;
  for (size_t i = 0; i < ldns_rr_rd_count(rr); ++i) {
    char* s = ldns_rdf2str(ldns_rr_rdf(rr, i));
    if (!s) continue;
    if (!out.empty()) out += ' ';
    out += s;
    free(s);
  }
  return out;
}

std::string owner(const ldns_rr* rr) {
  char* s = ldns_rdf2str(ldns_rr_owner(rr));
  std::string out = s ? s : "";
  free(s);
  return out;
}

std::string type_text(ldns_rr_type t) {
  char* s = ldns_rr_type2str(t);
  std::string out = s ? s : "";
  free(s);
  return out;
}

nlohmann::json section(const ldns_rr_list* list, bool brief) {
  nlohmann::json out = nlohmann::json::array();
  for (size_t i = 0; list && i < ldns_rr_list_rr_count(list); ++i) {
    const ldns_rr* rr = ldns_rr_list_rr(list, i);
    if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_OPT) continue;
    nlohmann::json j{{"value", rdf_text(rr)}, {"ttl", ldns_rr_ttl(rr)}};
    if (!brief) {
      j["name"] = owner(rr);
      j["type"] = type_text(ldns_rr_get_type(rr));
    }
    out.push_back(std::move(j));
  }
  return out;
}

}  // namespace

nlohmann::json dns_lookup(const core::SnapshotHolder& zones, const std::string& name,
                          const std::string& type) {
  const ldns_rr_type qtype = ldns_get_rr_type_by_name(type.c_str());
  if (qtype == 0) return {{"error", "type: unknown DNS type \"" + type + "\""}};
  std::string fqdn = name;
  if (fqdn.empty() || fqdn.back() != '.') fqdn += '.';
  ldns_rdf* qname = ldns_dname_new_frm_str(fqdn.c_str());
  if (!qname) return {{"error", "name: not a DNS name: \"" + name + "\""}};
  Pkt query(ldns_pkt_query_new(qname, qtype, LDNS_RR_CLASS_IN, 0));
  if (!query) return {{"error", "name: cannot build a query"}};
  ldns_pkt_set_id(query.get(), 1);
  uint8_t* wire = nullptr;
  size_t wire_size = 0;
  if (ldns_pkt2wire(&wire, query.get(), &wire_size) != LDNS_STATUS_OK)
    return {{"error", "name: cannot encode"}};
  std::unique_ptr<uint8_t, decltype(&free)> wire_owner(wire, &free);

  const auto snapshot = zones.load();
  dns::Rng rng{static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(wire)) ^ wire_size};
  dns::Query scratch;
  std::vector<std::uint8_t> out(dns::kMaxMessage);
  const auto response = dns::process(std::span<const std::uint8_t>(wire, wire_size),
                                     dns::Transport::Tcp, snapshot.get(), rng, scratch, out);
  nlohmann::json j{{"name", name}, {"type", type}};
  if (response.action != dns::Action::Send || response.size == 0) {
    // Not answered here (forwarding on, name outside our zones): the daemon relays it upstream.
    j["rcode"] = "FORWARDED";
    j["answers"] = nlohmann::json::array();
    j["authority"] = nlohmann::json::array();
    return j;
  }
  ldns_pkt* parsed = nullptr;
  if (ldns_wire2pkt(&parsed, out.data(), response.size) != LDNS_STATUS_OK)
    return {{"error", "internal: undecodable answer"}};
  Pkt answer(parsed);
  char* rcode = ldns_pkt_rcode2str(ldns_pkt_get_rcode(answer.get()));
  j["rcode"] = rcode ? rcode : "?";
  free(rcode);
  j["answers"] = section(ldns_pkt_answer(answer.get()), true);
  j["authority"] = section(ldns_pkt_authority(answer.get()), false);
  j["additional"] = section(ldns_pkt_additional(answer.get()), false);
  return j;
}

}  // namespace emu::runtime
