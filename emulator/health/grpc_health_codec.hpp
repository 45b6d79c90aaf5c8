#pragma once
// The two tiny protobuf messages of grpc.health.v1, encoded and decoded by hand, plus gRPC's
// 5-byte message framing (compressed flag + big-endian length). Pure functions.
//
//   message HealthCheckRequest  { string service = 1; }
//   message HealthCheckResponse { enum ServingStatus { UNKNOWN = 0; SERVING = 1;
//                                 NOT_SERVING = 2; SERVICE_UNKNOWN = 3; } ServingStatus status = 1;
//                                 }

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace emu::health::grpc_health {

/// HealthCheckResponse.status values.
enum class ServingStatus : std::int64_t {
  Unknown = 0,
  Serving = 1,
  NotServing = 2,
  ServiceUnknown = 3
};

/// A framed HealthCheckRequest{service}: the bytes of one gRPC request message.
std::string encode_request(std::string_view service);
/// Decodes HealthCheckRequest from an unframed protobuf payload (for test servers).
std::optional<std::string> decode_request(std::string_view payload);
/// An unframed HealthCheckResponse{status} (for test servers).
std::string encode_response(ServingStatus status);
/// Decodes a framed HealthCheckResponse; nullopt when malformed, compressed or truncated.
/// An absent status field is UNKNOWN (proto3 default).
std::optional<std::int64_t> decode_response(std::string_view framed);

/// gRPC framing: flag byte 0, 4-byte big-endian length, payload.
std::string frame(std::string_view payload);

/// "SERVING", "NOT_SERVING", "UNKNOWN", "SERVICE_UNKNOWN", or the number.
std::string serving_status_name(std::int64_t status);
/// gRPC status code names: 12 -> "UNIMPLEMENTED".
const char* status_code_name(int code);

}  // namespace emu::health::grpc_health
