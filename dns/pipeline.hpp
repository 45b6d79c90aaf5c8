#pragma once
// One packet in, one response out: decode -> answer -> bytes in the caller's buffer. Shared by
// the UDP and TCP servers, the benchmark and the fuzzer.

#include <cstdint>
#include <span>

#include "dns/message.hpp"
#include "dns/rng.hpp"
#include "emulator/core/zone_snapshot.hpp"

namespace emu::dns {

/// Processes one query packet. `query` is scratch space (kept by the caller, reused); on
/// Action::Forward it holds the decoded query. `out` should hold kMaxMessage bytes for TCP.
Response process(std::span<const std::uint8_t> packet, Transport transport,
                 const core::ZoneSnapshot* zones, Rng& rng, Query& query,
                 std::span<std::uint8_t> out, bool forwarding = false);

}  // namespace emu::dns
