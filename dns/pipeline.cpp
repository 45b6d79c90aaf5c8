#include "dns/pipeline.hpp"

#include "dns/responder.hpp"
#include "dns/wire.hpp"

namespace emu::dns {

Response process(std::span<const std::uint8_t> packet, Transport transport,
                 const core::ZoneSnapshot* zones, Rng& rng, Query& query,
                 std::span<std::uint8_t> out, bool forwarding) {
  query.question_ok = false;  // a dropped packet must not report the last one's question
  const DecodeStatus status = decode(packet, query);
  query.transport = transport;
  switch (status) {
    case DecodeStatus::Ok:
      return answer(query, zones, rng, out, forwarding);
    case DecodeStatus::Drop:
      return {};
    case DecodeStatus::FormErr:
      return answer_error(query, Rcode::FormErr, out);
    case DecodeStatus::NotImp:
      return answer_error(query, Rcode::NotImp, out);
    case DecodeStatus::BadVers:
      return answer_error(query, Rcode::BadVers, out);
  }
  return {};
}

}  // namespace emu::dns
