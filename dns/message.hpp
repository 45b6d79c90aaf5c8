#pragma once
// The values that flow through the answer path: a decoded Query (fixed-size, no heap) and the
// Response summary of what was written into the caller's buffer.

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace emu::dns {

/// Response codes we produce (BADVERS is an extended rcode carried in the OPT record).
enum class Rcode : std::uint16_t {
  NoError = 0,
  FormErr = 1,
  ServFail = 2,
  NxDomain = 3,
  NotImp = 4,
  Refused = 5,
  BadVers = 16,
};

/// RR types the responder knows.
enum class RrType : std::uint16_t {
  A = 1,
  Ns = 2,
  Soa = 6,
  Aaaa = 28,
  Srv = 33,
  Opt = 41,
  Ixfr = 251,
  Axfr = 252,
  Any = 255,
};

/// Classes.
inline constexpr std::uint16_t kClassIn = 1;
/// Our EDNS0 UDP payload size (DNS flag day 2020).
inline constexpr std::uint16_t kOurUdpSize = 1232;
/// UDP size without EDNS0 (RFC 1035).
inline constexpr std::uint16_t kClassicUdpSize = 512;
/// Largest DNS message (TCP framing limit).
inline constexpr std::size_t kMaxMessage = 65535;
/// Maximum length of a name in wire format.
inline constexpr std::size_t kMaxName = 255;

/// How the query arrived: UDP answers are capped by the client's size, TCP answers are not.
enum class Transport : std::uint8_t { Udp, Tcp };

/// What the decoder made of a packet.
enum class DecodeStatus : std::uint8_t {
  Ok,       ///< a well-formed query: answer it
  Drop,     ///< shorter than a header, or a response (QR=1): send nothing
  FormErr,  ///< header readable, the rest malformed
  NotImp,   ///< opcode other than QUERY
  BadVers,  ///< EDNS version other than 0
};

/// One decoded query. Fixed size: the name is copied, so the packet buffer can be reused.
struct Query {
  std::uint16_t id = 0;
  std::uint8_t opcode = 0;
  bool rd = false;
  bool cd = false;
  std::uint16_t qtype = 0;
  std::uint16_t qclass = 0;
  std::uint8_t qname_len = 0;                     ///< wire length including the root label
  std::array<std::uint8_t, kMaxName> qname{};     ///< lowercase wire format (lookup key)
  std::array<std::uint8_t, kMaxName> original{};  ///< as asked (echoed in the question)
  bool question_ok = false;  ///< the question was parsed (errors echo it when true)
  bool edns = false;
  bool dnssec_ok = false;
  std::uint8_t edns_version = 0;
  std::uint16_t udp_size = kClassicUdpSize;  ///< client's payload size (>= 512)
  Transport transport = Transport::Udp;

  /// The lowercase name as a byte span.
  std::span<const std::uint8_t> name() const { return {qname.data(), qname_len}; }
  /// Largest response this query may get.
  std::size_t max_response() const { return transport == Transport::Tcp ? kMaxMessage : udp_size; }
};

/// What to do with a processed packet.
enum class Action : std::uint8_t {
  Send,     ///< `size` bytes of response are in the buffer
  Drop,     ///< send nothing
  Forward,  ///< outside our zones and forwarding is on: relay to the upstream
};

/// Summary of a response written into a caller-provided buffer.
struct Response {
  Action action = Action::Drop;
  std::size_t size = 0;
  Rcode rcode = Rcode::NoError;
  bool truncated = false;
};

}  // namespace emu::dns
