#pragma once
// The answer logic (SPEC section 4): pure, no I/O, no allocation. It reads a decoded Query and a
// ZoneSnapshot and writes the response straight into a caller-provided buffer, with name
// compression against the question and TC=1 when the answer or authority does not fit, or when
// the UDP cap of 8 SRV records left some out. A UDP answer never exceeds the client's size (512
// without EDNS); the additional section (SRV targets' addresses) gets what room is left.

#include <cstdint>
#include <span>

#include "dns/message.hpp"
#include "dns/rng.hpp"
#include "emulator/core/zone_snapshot.hpp"

namespace emu::dns {

/// Most A/AAAA values in one multivalue answer (Route 53), and most SRV records in a UDP answer
/// (with TC=1 when the service has more; TCP answers carry all of them).
inline constexpr std::uint32_t kMaxMultivalue = 8;

/// Answers a well-formed query. Names outside our zones get REFUSED, or Action::Forward (and no
/// bytes) when `forwarding` is set. `zones` may be null (no zones yet: everything is outside).
Response answer(const Query& query, const core::ZoneSnapshot* zones, Rng& rng,
                std::span<std::uint8_t> out, bool forwarding = false);

/// Writes a response with no records and the given rcode (FORMERR, NOTIMP, BADVERS, SERVFAIL,
/// REFUSED): id, opcode and RD echoed, the question echoed when it was parsed.
Response answer_error(const Query& query, Rcode rcode, std::span<std::uint8_t> out);

}  // namespace emu::dns
