#pragma once
// Decoding of untrusted query bytes. A bounds-checked fast path reads the header, the one
// question and an optional OPT record without allocating; anything unusual (records in the
// answer or authority sections, several additional records, an OPT we do not recognise) goes to
// a slow path where ldns parses the whole message and decides. On both paths a second OPT, an OPT
// outside the additional section or an OPT not owned by the root is FORMERR (RFC 6891 6.1.1).

#include <cstdint>
#include <span>

#include "dns/message.hpp"

namespace emu::dns {

/// Decodes a packet into `query`. On FormErr/NotImp/BadVers the header fields (and the question
/// when `query.question_ok`) are filled so an error response can echo them.
DecodeStatus decode(std::span<const std::uint8_t> packet, Query& query);

/// The slow path alone (exposed for tests): ldns parses the whole packet.
DecodeStatus decode_with_ldns(std::span<const std::uint8_t> packet, Query& query);

}  // namespace emu::dns
