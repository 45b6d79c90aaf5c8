#include "emulator/health/grpc_health_codec.hpp"

#include <iterator>

namespace emu::health::grpc_health {

namespace {

void put_varint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

bool get_varint(std::string_view& in, std::uint64_t& v) {
  v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (in.empty()) return false;
    const auto b = static_cast<unsigned char>(in.front());
    in.remove_prefix(1);
    v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return true;
  }
  return false;
}

// Skips one field of the given wire type; false on malformed input.
bool skip_field(std::string_view& in, std::uint64_t wire_type) {
  std::uint64_t n = 0;
  switch (wire_type) {
    case 0:
      return get_varint(in, n);
    case 1:
      n = 8;
      break;
    case 2:
      if (!get_varint(in, n)) return false;
      break;
    case 5:
      n = 4;
      break;
    default:
      return false;  // groups (3, 4) are not used by these messages
  }
  if (in.size() < n) return false;
  in.remove_prefix(n);
  return true;
}

}  // namespace

std::string frame(std::string_view payload) {
  std::string out;
  out.reserve(5 + payload.size());
  const auto n = static_cast<std::uint32_t>(payload.size());
  out.push_back('\0');  // not compressed
  out.push_back(static_cast<char>((n >> 24) & 0xff));
  out.push_back(static_cast<char>((n >> 16) & 0xff));
  out.push_back(static_cast<char>((n >> 8) & 0xff));
  out.push_back(static_cast<char>(n & 0xff));
  out.append(payload);
  return out;
}

std::string encode_request(std::string_view service) {
  std::string payload;
  if (!service.empty()) {     // proto3: an empty string is not sent
    payload.push_back(0x0a);  // field 1, wire type 2 (length-delimited)
    put_varint(payload, service.size());
    payload.append(service);
  }
  return frame(payload);
}

std::optional<std::string> decode_request(std::string_view in) {
  std::string service;
  while (!in.empty()) {
    std::uint64_t key = 0;
    if (!get_varint(in, key)) return std::nullopt;
    if (key == 0x0a) {
      std::uint64_t n = 0;
      if (!get_varint(in, n) || in.size() < n) return std::nullopt;
      service.assign(in.substr(0, n));
      in.remove_prefix(n);
    } else if (!skip_field(in, key & 7)) {
      return std::nullopt;
    }
  }
  return service;
}

std::string encode_response(ServingStatus status) {
  std::string payload;
  if (status != ServingStatus::Unknown) {
    payload.push_back(0x08);  // field 1, wire type 0 (varint)
    put_varint(payload, static_cast<std::uint64_t>(status));
  }
  return payload;
}

std::optional<std::int64_t> decode_response(std::string_view framed) {
  if (framed.size() < 5) return std::nullopt;
  if (framed[0] != '\0') return std::nullopt;  // we never ask for compression
  const auto byte = [&](std::size_t i) {
    return static_cast<std::uint32_t>(static_cast<unsigned char>(framed[i]));
  };
  const std::uint32_t n = (byte(1) << 24) | (byte(2) << 16) | (byte(3) << 8) | byte(4);
  if (framed.size() - 5 < n) return std::nullopt;
  std::string_view in = framed.substr(5, n);
  std::int64_t status = 0;
  while (!in.empty()) {
    std::uint64_t key = 0;
    if (!get_varint(in, key)) return std::nullopt;
    if (key == 0x08) {
      std::uint64_t v = 0;
      if (!get_varint(in, v)) return std::nullopt;
      status = static_cast<std::int64_t>(v);
    } else if (!skip_field(in, key & 7)) {
      return std::nullopt;
    }
  }
  return status;
}

std::string serving_status_name(std::int64_t status) {
  switch (status) {
    case 0:
      return "UNKNOWN";
    case 1:
      return "SERVING";
    case 2:
      return "NOT_SERVING";
    case 3:
      return "SERVICE_UNKNOWN";
    default:
      return std::to_string(status);
  }
}

const char* status_code_name(int code) {
  static constexpr const char* kNames[] = {"OK",
                                           "CANCELLED",
                                           "UNKNOWN",
                                           "INVALID_ARGUMENT",
                                           "DEADLINE_EXCEEDED",
                                           "NOT_FOUND",
                                           "ALREADY_EXISTS",
                                           "PERMISSION_DENIED",
                                           "RESOURCE_EXHAUSTED",
                                           "FAILED_PRECONDITION",
                                           "ABORTED",
                                           "OUT_OF_RANGE",
                                           "UNIMPLEMENTED",
                                           "INTERNAL",
                                           "UNAVAILABLE",
                                           "DATA_LOSS",
                                           "UNAUTHENTICATED"};
  if (code < 0 || code >= static_cast<int>(std::size(kNames))) return "?";
  return kNames[code];
}

}  // namespace emu::health::grpc_health
